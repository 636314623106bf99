/**
 * The embedded stack runs in one process on a newcomer's laptop. Settings that make it much smaller can
 * only be given when a process starts, so `tenge-gateway start` (embedded) replaces itself once, same pid and
 * same terminal, with them, before the CLI and the stack are loaded (bin/tenge-gateway.js):
 * - MALLOC_ARENA_MAX=2: the C allocator otherwise keeps a 64 MB arena per thread that ever allocated (V8's
 *   compiler and GC threads, the chain's threads), each holding freed memory resident (about 90 MB in all);
 * - --max-semi-space-size: V8's young generation stays a few MB instead of growing to about 64 MB under load;
 * - --wasm-lazy-compilation: only the parts of PGlite's WebAssembly that run are compiled.
 * A production start (DATABASE_URL, or EMBEDDED=false) is left as it was started.
 */
import { loadConfig } from "../config/config.ts";

const SEMI_SPACE_FLAG = "--max-semi-space-size";

/** Replaces this process with the same command under the embedded settings; returns only when it does not. */
export function restartTunedForEmbedded(env: NodeJS.ProcessEnv): void {
  // Once, and on a Node that can (process.execve: >= 22.15).
  if (typeof process.execve !== "function") return;
  if (process.execArgv.some((flag) => flag.startsWith(SEMI_SPACE_FLAG)) || env["MALLOC_ARENA_MAX"] !== undefined) return;
  let embedded: boolean;
  try {
    embedded = loadConfig(env).embedded;
  } catch {
    return; // a bad setting: the start command itself says which, in one line
  }
  if (!embedded) return;
  process.execve(process.execPath, [process.execPath, `${SEMI_SPACE_FLAG}=4`, "--wasm-lazy-compilation", ...process.execArgv, ...process.argv.slice(1)], { ...env, MALLOC_ARENA_MAX: "2" });
}
