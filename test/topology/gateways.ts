/**
 * tenge-gateway processes configured the way docs/deploy.md tells an operator: settings in the
 * environment, secrets in owner-only files (`*_FILE`), the foreign ledgers in PVP_FOREIGN_LEDGERS_FILE,
 * and an operator API key from `tenge-gateway keys create`.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, sleep, waitForHttp, type ProcessGroup, type RunningProcess } from "./processes.ts";

export interface GatewayProcess {
  name: string;
  url: string;
  port: number;
  env: Record<string, string>;
  process: RunningProcess;
}

/** Writes a secret as an operator would: a file only its owner can read. Returns its path. */
export function secretFile(directory: string, name: string, value: string): string {
  const path = join(directory, "secrets", name);
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/** Starts `tenge-gateway start` on a free port and waits until `/readyz` answers 200. */
export async function startGateway(group: ProcessGroup, name: string, env: Record<string, string>, port?: number): Promise<GatewayProcess> {
  const chosen = port ?? (await freePort());
  const started = group.startCli(name, ["start"], { ...env, HOST: "127.0.0.1", PORT: String(chosen) });
  const url = `http://127.0.0.1:${chosen}`;
  await waitForHttp(started, `${url}/readyz`, 120_000);
  return { name, url, port: chosen, env, process: started };
}

/** Stops a gateway with SIGTERM (an orderly restart) and starts it again with the same settings and port. */
export async function restartGateway(group: ProcessGroup, gateway: GatewayProcess): Promise<GatewayProcess> {
  const code = await group.stop(gateway.process);
  if (code !== 0) throw new Error(`${gateway.name} exited ${code} on SIGTERM`);
  return startGateway(group, gateway.name, gateway.env, gateway.port);
}

/** `tenge-gateway keys create --role operator`: the API key the operator works with. */
export async function createOperatorKey(group: ProcessGroup, name: string, databaseUrl: string): Promise<string> {
  const output = await group.runCli(`keys-create-${name}`, ["keys", "create", "--role", "operator", "--name", `Topology operator ${name}`], { DATABASE_URL: databaseUrl, LOG_LEVEL: "warn" });
  return jsonLine<{ apiKey: string }>(output).apiKey;
}

/** The last JSON object line a command printed. */
export function jsonLine<T>(output: string): T {
  const line = output.trim().split("\n").reverse().find((each) => each.startsWith("{"));
  if (!line) throw new Error(`no JSON in: ${output.slice(0, 300)}`);
  return JSON.parse(line) as T;
}

/** A small client of a gateway's API as one principal. */
export function gatewayApi(baseUrl: () => string, apiKey: string) {
  return async <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    // A read cut off by a killed process behind the load balancer is simply asked again, as a client would.
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(`${baseUrl()}${path}`, {
          method,
          headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(15_000),
        });
        const text = await response.text();
        return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
      } catch (error) {
        // A loaded machine may take a few seconds to bring a process back: up to ~20 s in all.
        if (method !== "GET" || attempt >= 20) throw new Error(`${method} ${path}: ${(error as Error).message} ${String((error as { cause?: unknown }).cause ?? "")}`, { cause: error });
        await sleep(Math.min(250 * attempt, 2_000));
      }
    }
  };
}
