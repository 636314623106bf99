/**
 * The OS processes of the topology run: each is started from the command line an operator would type,
 * with its output in a log file under the run's directory, and is stopped (or killed) by its pid only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;
const CLI = join(ROOT, "bin", "tenge-gateway.js");
const HARDHAT = join(ROOT, "node_modules", ".bin", "hardhat");

export interface RunningProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  hasExited(): boolean;
}

/** Every process the run started, so cleanup finds them all, also after a failure. */
export class ProcessGroup {
  readonly directory: string;
  private readonly running: RunningProcess[] = [];
  constructor(directory: string) {
    this.directory = directory;
  }

  /** Starts `node <script> ...args` with the given environment only (plus PATH), logging to `<name>.log`. */
  startNode(name: string, script: string, args: string[], env: Record<string, string>): RunningProcess {
    const logFile = join(this.directory, `${name}.log`);
    const fd = openSync(logFile, "a");
    const child = spawn(process.execPath, [script, ...args], {
      cwd: ROOT,
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env },
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);
    let ended = false;
    const exited = new Promise<number | string>((resolve) => {
      child.once("exit", (code, signal) => {
        ended = true;
        resolve(code ?? signal ?? "unknown");
      });
      child.once("error", () => {
        ended = true;
        resolve("spawn failed");
      });
    });
    const started = { name, child, logFile, exited, hasExited: () => ended };
    this.running.push(started);
    return started;
  }

  /** `tenge-gateway <args>` as a long-running process. */
  startCli(name: string, args: string[], env: Record<string, string>): RunningProcess {
    return this.startNode(name, CLI, args, env);
  }

  /** `tenge-gateway <args>` to completion; throws with the output's tail unless it exits 0. */
  async runCli(name: string, args: string[], env: Record<string, string>): Promise<string> {
    const started = this.startCli(name, args, env);
    const code = await started.exited;
    const output = readFileSync(started.logFile, "utf8");
    if (code !== 0) throw new Error(`tenge-gateway ${args.slice(0, 3).join(" ")} exited ${code}:\n${tail(output, 20)}`);
    return output;
  }

  /** A Hardhat node (Hardhat 3, EDR) on loopback with the given chain id; resolves with its RPC URL once it listens. */
  async startHardhatNode(name: string, chainId: number): Promise<{ process: RunningProcess; rpcUrl: string }> {
    // Port 0: the node picks a free port and prints it; the repository's hardhat.config.ts is read as-is.
    const args = ["node", "--hostname", "127.0.0.1", "--port", "0", "--chain-id", String(chainId)];
    const started = this.startNode(name, HARDHAT, args, { HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" });
    const line = await waitForLog(started, /JSON-RPC server at (http:\/\/[^\s/]+)/, 60_000);
    return { process: started, rpcUrl: line[1]! };
  }

  /** SIGKILL: the process gets no chance to finish anything (the crash the run injects). */
  async kill9(started: RunningProcess): Promise<void> {
    if (!started.hasExited()) started.child.kill("SIGKILL");
    await started.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`: an orderly stop by the operator. */
  async stop(started: RunningProcess, graceMs = 15_000): Promise<number | string> {
    if (!started.hasExited()) {
      started.child.kill("SIGTERM");
      const timer = setTimeout(() => started.child.kill("SIGKILL"), graceMs);
      await started.exited;
      clearTimeout(timer);
    }
    return started.exited;
  }

  /** Stops every process still running, newest first. */
  async stopAll(): Promise<void> {
    for (const started of [...this.running].reverse()) await this.stop(started, 5_000);
  }

  /** Synchronous last resort from a signal handler or `exit`: SIGKILL to every child still running. */
  killAllNow(): void {
    for (const started of this.running) if (!started.hasExited()) started.child.kill("SIGKILL");
  }

  /** The last lines of every process's log, for a failure report. */
  tails(lines = 25): string {
    return this.running.map((started) => `--- ${started.name} (${started.logFile}) ---\n${tail(readLog(started), lines)}`).join("\n");
  }
}

function readLog(started: RunningProcess): string {
  try {
    return readFileSync(started.logFile, "utf8");
  } catch {
    return "";
  }
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Waits until the process's log matches `pattern`; fails early when the process ends first. */
export async function waitForLog(started: RunningProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = readLog(started).match(pattern);
    if (match) return match;
    if (started.hasExited()) throw new Error(`${started.name} exited (${await started.exited}) before printing ${pattern}`);
    if (Date.now() > deadline) throw new Error(`${started.name} did not print ${pattern} within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** Polls `url` until it answers 200; fails early when the process ends first. */
export async function waitForHttp(started: RunningProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (started.hasExited()) throw new Error(`${started.name} exited (${await started.exited}) before ${url} answered`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(250);
  }
}

/** A port free right now on loopback (for processes that need the port before they start). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
