#!/usr/bin/env node
// The CLI runs the TypeScript sources directly (Node >= 22.13 strips types natively). Under an older Node it runs
// itself again under Node 24 from the npm registry, as the README's Quick start does, so `npx tenge-gateway ...`
// works on both kinds of machine. Plain JavaScript that any Node parses.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const [major, minor] = process.versions.node.split(".").map(Number);
// A reader that stops early (`| head`) closes the pipe: that ends the output, not in an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
}
if (major > 22 || (major === 22 && minor >= 13)) {
  // An embedded `start` replaces itself once with settings for a small footprint, before the CLI is loaded.
  if (process.argv[2] === "start") (await import("../src/gateway/embedded-process.ts")).restartTunedForEmbedded(process.env);
  const { main } = await import("../src/cli/main.ts");
  process.exitCode = await main(process.argv.slice(2));
} else if (process.env.TENGE_GATEWAY_NODE24) {
  console.error(`tenge-gateway: needs Node >= 22.13 (found ${process.versions.node}); install Node 24 (see .nvmrc)`);
  process.exit(2);
} else {
  console.error(`tenge-gateway: Node ${process.versions.node} is older than 22.13; running under Node 24 from the npm registry`);
  // An npx that runs inside `npx` or `npm run` must not inherit the outer one's command (npm's EUSAGE).
  const env = { ...process.env, TENGE_GATEWAY_NODE24: "1" };
  delete env.npm_config_call;
  delete env.npm_config_package;
  // --loglevel=error: npm's warnings (EBADENGINE for the old Node that runs this launcher) would repeat on every call.
  const child = spawn("npx", ["--loglevel=error", "-y", "-p", "node@24", "node", fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
    env,
  });
  // Ctrl+C reaches the child from the terminal itself; other signals are passed on.
  process.on("SIGINT", () => {});
  for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("error", (error) => {
    console.error(`tenge-gateway: could not run npx to get Node 24 (${error.message}); install Node >= 22.13 (see .nvmrc)`);
    process.exit(2);
  });
  child.on("exit", (code, signal) => process.exit(code ?? (signal === "SIGINT" ? 130 : 1)));
}
