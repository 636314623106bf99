import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config/config.ts";

function problem(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return "accepted";
}

describe("configuration", () => {
  it("defaults to the embedded stack on 127.0.0.1:8080 with PGlite under ./.data", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ host: "127.0.0.1", port: 8080, databaseUrl: undefined, dataDir: "./.data", embedded: true, embeddedPeerPort: 8081, embeddedDtLedgerPort: 8090 });
  });

  it("names the variable and the problem for bad values", () => {
    expect(problem({ PORT: "eighty" })).toBe('PORT must be an integer from 0 to 65535, got "eighty"');
    expect(problem({ PORT: "70000" })).toBe("PORT must be an integer from 0 to 65535, got 70000");
    expect(problem({ DATABASE_URL: "mysql://db/x" })).toBe("DATABASE_URL must be a postgres: or postgresql: URL, got mysql:");
    expect(problem({ DATABASE_URL: "not a url" })).toMatch(/^DATABASE_URL must be a URL/);
    expect(problem({ LOG_LEVEL: "loud" })).toMatch(/^LOG_LEVEL must be one of fatal, error/);
    expect(problem({ EMBEDDED: "maybe" })).toBe('EMBEDDED must be true or false, got "maybe"');
    expect(problem({ EMBEDDED_PEER_PORT: "80a81" })).toBe('EMBEDDED_PEER_PORT must be an integer from 0 to 65535, got "80a81"');
    expect(problem({ EMBEDDED_DT_LEDGER_PORT: "-1" })).toMatch(/^EMBEDDED_DT_LEDGER_PORT must be an integer from 0 to 65535/);
  });

  it("never echoes a database password in an error", () => {
    expect(problem({ DATABASE_URL: "mysql://user:hunter2@db/x" })).not.toContain("hunter2");
  });

  it("reads an optional JSON file under the environment", () => {
    const dir = mkdtempSync(join(tmpdir(), "tg-config-"));
    const file = join(dir, "gateway.json");
    writeFileSync(file, JSON.stringify({ PORT: 9090, HOST: "0.0.0.0" }), { mode: 0o600 });
    expect(loadConfig({ TENGE_CONFIG_FILE: file, HOST: "127.0.0.2" })).toMatchObject({ port: 9090, host: "127.0.0.2" });
    expect(problem({ TENGE_CONFIG_FILE: join(dir, "missing.json") })).toMatch(/^TENGE_CONFIG_FILE must name a readable JSON file/);
  });
});

describe("the embedded stack", () => {
  it("is the default without DATABASE_URL and off with it; both at once are refused", () => {
    expect(loadConfig({}).embedded).toBe(true);
    expect(loadConfig({ DATABASE_URL: "postgres://localhost/gateway" }).embedded).toBe(false);
    expect(problem({ DATABASE_URL: "postgres://localhost/gateway", EMBEDDED: "true" })).toMatch(/^EMBEDDED must be false when DATABASE_URL is set/);
  });
});
