import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import { validateMessage, type ValidationOptions } from "./validate.ts";

// On Linux a thread has its own nice value: this one yields the CPU to the event loop (health checks,
// other callers) when cores are short. Best effort: elsewhere the thread keeps the process's priority.
try {
  const threadId = Number(readlinkSync("/proc/thread-self").split("/").pop());
  if (threadId > 0) setPriority(threadId, 10);
} catch {
  // not Linux, or not allowed
}

// Runs in a worker thread: a large document's validation takes the worker's time, not the server's event
// loop, so health checks and other callers keep answering while it runs.
parentPort!.on("message", ({ id, xml, options }: { id: number; xml: string; options: ValidationOptions }) => {
  try {
    parentPort!.postMessage({ id, report: validateMessage(xml, options) });
  } catch (error) {
    parentPort!.postMessage({ id, failure: { name: (error as Error).name, code: (error as { code?: unknown }).code, message: (error as Error).message } });
  }
});
