import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import { loadDeploymentSettings } from "../../src/gateway/settings.ts";

const dir = mkdtempSync(join(tmpdir(), "tg-dvp-settings-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const KEY = `0x${"11".repeat(32)}`;
const SEED = "22".repeat(32);
const address = (digit: string) => `0x${digit.repeat(40)}`;
const deployment = (withSecurity: boolean) => ({
  chainId: 31337,
  deployer: address("1"),
  deployedAt: "2026-12-01T00:00:00Z",
  contracts: {
    TengeStablecoin: { address: address("2"), transactionHash: "0x00", blockNumber: "1" },
    HashTimeLock: { address: address("3"), transactionHash: "0x00", blockNumber: "2" },
    ...(withSecurity ? { EligibilityRegistry: { address: address("4"), transactionHash: "0x00", blockNumber: "3" }, SecurityToken: { address: address("5"), transactionHash: "0x00", blockNumber: "4" } } : {}),
  },
  stablecoin: { name: "T", symbol: "T", decimals: 2, owner: address("1"), collateralSigner: address("1"), segregatedAccount: "DA-SEG", maxStatementAge: "3600" },
  ...(withSecurity ? { security: { name: "Bond", symbol: "B", isin: "KZKD00001020", decimals: 0, agent: address("1"), holders: [], custodians: [address("3")] } } : {}),
});
writeFileSync(join(dir, "bond.json"), JSON.stringify(deployment(true)));
writeFileSync(join(dir, "no-bond.json"), JSON.stringify(deployment(false)));

const production = (): Record<string, string> => ({
  DATABASE_URL: "postgres://postgres@127.0.0.1:1/none",
  DT_LEDGER_URL: "http://127.0.0.1:8090",
  DT_LEDGER_PARTICIPANT: "TENGEGW",
  DT_LEDGER_SIGNING_KEY: SEED,
  PVP_AGENT_BIC: "NBRKKZKX",
  PVP_SECRET_KEY: SEED,
});
const load = (env: Record<string, string | undefined>) => loadDeploymentSettings(loadConfig(env), env);

describe("DVP_SECURITIES_FILE", () => {
  const file = join(dir, "securities.json");
  const entry = { rpcUrl: "http://127.0.0.1:8547", chainId: 31337, deploymentsFile: "bond.json", holdingKeys: [{ env: "BROKER_HOLDING_KEY" }] };
  const withFile = (entries: Record<string, unknown>, extra: Record<string, string> = {}) => {
    writeFileSync(file, JSON.stringify(entries));
    return () => load({ ...production(), DVP_SECURITIES_FILE: file, BROKER_HOLDING_KEY: KEY, ...extra });
  };

  it("reads the securities ledgers: the security and HTLC from the deployments file, holding keys by reference (a variable it names is a known setting)", () => {
    const [ledger] = withFile({ securities: entry })().securitiesLedgers!;
    expect(ledger).toEqual({ name: "securities", rpcUrl: entry.rpcUrl, chainId: 31337, hashTimeLock: address("3"), securityToken: address("5"), fromBlock: 2n, confirmations: 1, holdingKeys: [KEY] });
    expect(load(production()).securitiesLedgers).toBeUndefined();
  });

  it("refuses what cannot deliver, naming the variable and the field", () => {
    expect(withFile({ securities: { ...entry, deploymentsFile: "no-bond.json" } })).toThrow(/^DVP_SECURITIES_FILE securities.deploymentsFile has no SecurityToken/);
    expect(withFile({ securities: { ...entry, holdingKeys: [KEY] } })).toThrow(/keys are never inline/);
    expect(withFile({ securities: entry }, { BROKER_HOLDING_KEY: "" })).toThrow(/holdingKeys\[0\] names BROKER_HOLDING_KEY, which is unset/);
    expect(withFile({ bonds: entry })).toThrow(/^DVP_SECURITIES_FILE bonds must be named securities or securities:<name>/);
    expect(withFile({ securities: { ...entry, chainId: 1 } })).toThrow(/deploymentsFile is for chain 31337, not 1/);
    writeFileSync(file, JSON.stringify({ securities: entry }));
    expect(() => load({ ...production(), PVP_AGENT_BIC: "", PVP_SECRET_KEY: "", DVP_SECURITIES_FILE: file, BROKER_HOLDING_KEY: KEY })).toThrow(/^DVP_SECURITIES_FILE needs PvP/);
    expect(() => load({ DATA_DIR: dir, DVP_SECURITIES_FILE: file })).toThrow(/^DVP_SECURITIES_FILE must be unset with EMBEDDED=true/);
  });
});
