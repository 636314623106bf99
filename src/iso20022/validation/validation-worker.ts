import { parentPort } from "node:worker_threads";
import { validateMessage, type ValidationOptions } from "./validate.ts";

// Runs in a worker thread: a large document's validation takes the worker's time, not the server's event
// loop, so health checks and other callers keep answering while it runs.
parentPort!.on("message", ({ id, xml, options }: { id: number; xml: string; options: ValidationOptions }) => {
  try {
    parentPort!.postMessage({ id, report: validateMessage(xml, options) });
  } catch (error) {
    parentPort!.postMessage({ id, failure: { name: (error as Error).name, code: (error as { code?: unknown }).code, message: (error as Error).message } });
  }
});
