import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { loadConfig } from "../../src/config/config.ts";
import { loadDeploymentSettings } from "../../src/gateway/settings.ts";

const dir = mkdtempSync(join(tmpdir(), "tg-settings-"));
const KEY = `0x${"11".repeat(32)}`;
const SEED = "22".repeat(32);

function secretFile(name: string, content: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, `${content}\n`);
  chmodSync(path, mode);
  return path;
}

const deployments = join(dir, "31337.json");
writeFileSync(
  deployments,
  JSON.stringify({
    chainId: 31337,
    deployer: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    deployedAt: "2026-12-01T00:00:00Z",
    contracts: {
      TengeStablecoin: { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", transactionHash: "0x00", blockNumber: "1" },
      HashTimeLock: { address: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", transactionHash: "0x00", blockNumber: "2" },
    },
    stablecoin: {
      name: "T",
      symbol: "T",
      decimals: 2,
      owner: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
      collateralSigner: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
      segregatedAccount: "DA-SEG",
      maxStatementAge: "3600",
    },
  }),
);

/** A complete production environment; each test breaks one thing. */
const production = (): Record<string, string> => ({
  DATABASE_URL: "postgres://postgres@127.0.0.1:1/none",
  DT_LEDGER_URL: "http://127.0.0.1:8090",
  DT_LEDGER_PARTICIPANT: "TENGEGW",
  DT_LEDGER_SIGNING_KEY: SEED,
  STABLECOIN_DEPLOYMENTS_FILE: deployments,
  STABLECOIN_RPC_URL: "http://127.0.0.1:8545",
  STABLECOIN_MINTER_KEY: KEY,
  COLLATERAL_ATTESTATION_KEY: SEED,
  PVP_AGENT_BIC: "NBRKKZKX",
  PVP_SECRET_KEY: SEED,
  PVP_SIGNING_KEY: SEED,
  PVP_SIGNING_KEY_ID: "NBRKKZKX-1",
});

const load = (env: Record<string, string | undefined>) => loadDeploymentSettings(loadConfig(env), env);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("deployment settings: every feature from its settings, each problem one line naming the variable", () => {
  it("a complete production environment turns every feature on", () => {
    const settings = load(production());
    expect(settings.dtLedger).toMatchObject({ mode: "http", url: "http://127.0.0.1:8090", participantId: "TENGEGW" });
    expect(settings.stablecoinChains[0]?.token).toBe("0x5FbDB2315678afecb367f032d93F642f64180aa3");
    expect(settings.pvp).toMatchObject({ agent: "NBRKKZKX", responderLedger: "dt", signing: { keyId: "NBRKKZKX-1" } });
  });

  it("STABLECOIN_CHAINS names any number of chains, each with its own minter key; the single-chain settings map to one chain", () => {
    const single = load(production()).stablecoinChains;
    expect(single).toEqual([
      expect.objectContaining({ chainId: 31337, rpcUrl: "http://127.0.0.1:8545", htlc: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", startBlock: 1n, minterKey: KEY, segregatedAccount: "DA-SEG", mintConfirmations: 1, redeemConfirmations: 2, reorgWindowBlocks: 32 }),
    ]);
    const { STABLECOIN_DEPLOYMENTS_FILE: _file, STABLECOIN_RPC_URL: _rpc, STABLECOIN_MINTER_KEY: _key, ...rest } = production();
    const chains = JSON.stringify([
      { chainId: 31337, rpcUrl: "http://127.0.0.1:8545", token: "0x5FbDB2315678afecb367f032d93F642f64180aa3", htlc: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" },
      { chainId: 31338, rpcUrl: "http://127.0.0.1:8546", token: "0x5FbDB2315678afecb367f032d93F642f64180aa3", htlc: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", redeemConfirmations: 3 },
    ]);
    const several = load({ ...rest, STABLECOIN_CHAINS: chains, STABLECOIN_MINTER_KEY_31338: KEY }).stablecoinChains;
    expect(several.map((chain) => [chain.chainId, chain.redeemConfirmations, chain.minterKey])).toEqual([[31337, 1, undefined], [31338, 3, KEY]]);
    // Both ways at once, or a per-chain key without the chains, would leave a setting silently unused.
    expect(() => load({ ...production(), STABLECOIN_CHAINS: chains })).toThrow(/^STABLECOIN_DEPLOYMENTS_FILE must be unset with STABLECOIN_CHAINS/);
    expect(() => load({ ...rest, STABLECOIN_CHAINS: chains, STABLECOIN_MINTER_KEY: KEY })).toThrow(/^STABLECOIN_MINTER_KEY must be unset with STABLECOIN_CHAINS/);
    expect(() => load({ ...rest, STABLECOIN_CHAINS: chains, STABLECOIN_REDEEM_CONFIRMATIONS: "4" })).toThrow(/^STABLECOIN_REDEEM_CONFIRMATIONS must be unset with STABLECOIN_CHAINS/);
    expect(() => load({ ...production(), STABLECOIN_MINTER_KEY_31337: KEY })).toThrow(/^STABLECOIN_MINTER_KEY_31337 needs STABLECOIN_CHAINS listing its chain/);
    expect(() => load({ ...rest, DT_LEDGER_URL: "", STABLECOIN_CHAINS: chains })).toThrow(/^(STABLECOIN_CHAINS needs a DT ledger|DT_LEDGER_PARTICIPANT)/);
    expect(() => load({ STABLECOIN_CHAINS: chains })).toThrow(/^STABLECOIN_CHAINS must be unset with EMBEDDED=true/);
  });

  it("features are off when their settings are absent", () => {
    const settings = load({ DATABASE_URL: "postgres://postgres@127.0.0.1:1/none" });
    expect(settings.dtLedger).toBeUndefined();
    expect(settings.stablecoinChains).toEqual([]);
    expect(settings.pvp).toBeUndefined();
  });

  it.each([
    [{ DT_LEDGER_SIGNING_KEY: undefined }, /^DT_LEDGER_SIGNING_KEY must hold/],
    [{ DT_LEDGER_PARTICIPANT: undefined }, /^DT_LEDGER_PARTICIPANT /],
    [{ DT_LEDGER_IN_PROCESS: "true" }, /^DT_LEDGER_IN_PROCESS must not be true with DT_LEDGER_URL/],
    [{ DT_LEDGER_URL: "ftp://x" }, /^DT_LEDGER_URL must be a http: or https: URL/],
    [{ DT_LEDGER_URL: undefined }, /^DT_LEDGER_PARTICIPANT is set but no DT ledger is/],
    [{ STABLECOIN_RPC_URL: undefined }, /^STABLECOIN_RPC_URL must name/],
    [{ STABLECOIN_DEPLOYMENTS_FILE: join(dir, "missing.json") }, /^STABLECOIN_DEPLOYMENTS_FILE must name a readable deployments file/],
    [{ COLLATERAL_ATTESTATION_KEY: undefined }, /^COLLATERAL_ATTESTATION_KEY must be set/],
    [{ STABLECOIN_MINTER_KEY: "0x1234" }, /^STABLECOIN_MINTER_KEY must be a 0x-prefixed/],
    [{ STABLECOIN_MINT_CONFIRMATIONS: "0" }, /^STABLECOIN_MINT_CONFIRMATIONS /],
    [{ PVP_AGENT_BIC: "nbk" }, /^PVP_AGENT_BIC must be a BIC/],
    [{ PVP_SECRET_KEY: undefined }, /^PVP_SECRET_KEY must hold 32 bytes/],
    [{ PVP_SECRET_KEY: "abcd" }, /^PVP_SECRET_KEY must be 32 bytes of hex/],
    [{ PVP_SIGNING_KEY_ID: undefined }, /^PVP_SIGNING_KEY_ID must name/],
    [{ PVP_AGENT_BIC: undefined }, /^PVP_SIGNING_KEY is set but PVP_AGENT_BIC is not/],
    [{ PVP_FOREIGN_LEDGERS_FILE: join(dir, "missing-ledgers.json") }, /^PVP_FOREIGN_LEDGERS_FILE must name a readable JSON file/],
  ])("%o is refused", (change, message) => {
    const env: Record<string, string | undefined> = { ...production(), ...change };
    for (const [key, value] of Object.entries(change)) if (value === undefined) delete env[key];
    let error: Error | undefined;
    try {
      load(env);
    } catch (caught) {
      error = caught as Error;
    }
    expect(error?.name).toBe("ConfigError");
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain("\n");
    for (const secret of [KEY.slice(2), SEED]) expect(error?.message).not.toContain(secret);
  });

  it("the embedded stack refuses settings that name external systems", () => {
    expect(() => load({ STABLECOIN_RPC_URL: "http://127.0.0.1:8545" })).toThrow(/^STABLECOIN_RPC_URL must be unset with EMBEDDED=true/);
    expect(() => load({ DT_LEDGER_OPERATOR_KEY_FILE: "/nowhere" })).toThrow(/^DT_LEDGER_OPERATOR_KEY must be unset with EMBEDDED=true/);
    expect(load({}).pvp?.agent).toBe("NBRKKZKX");
  });

  it("a secret file is read only when no one but the owner can read it, and never together with the value", () => {
    const strict = secretFile("pvp-secret", SEED, 0o600);
    expect(Buffer.from(load({ ...production(), PVP_SECRET_KEY: "", PVP_SECRET_KEY_FILE: strict }).pvp!.secretKey!).toString("hex")).toBe(SEED);
    const readOnly = secretFile("minter", KEY, 0o400);
    expect(load({ ...production(), STABLECOIN_MINTER_KEY: "", STABLECOIN_MINTER_KEY_FILE: readOnly }).stablecoin.minterKey).toBe(KEY);
    const loose = secretFile("loose", SEED, 0o644);
    expect(() => load({ ...production(), PVP_SECRET_KEY: "", PVP_SECRET_KEY_FILE: loose })).toThrow(/^PVP_SECRET_KEY_FILE must not be readable by group or others \(.* has mode 0644\); chmod 600 it$/);
    const group = secretFile("group", SEED, 0o640);
    expect(() => load({ ...production(), DT_LEDGER_SIGNING_KEY: "", DT_LEDGER_SIGNING_KEY_FILE: group })).toThrow(/^DT_LEDGER_SIGNING_KEY_FILE must not be readable by group/);
    expect(() => load({ ...production(), PVP_SECRET_KEY_FILE: strict })).toThrow(/^PVP_SECRET_KEY and PVP_SECRET_KEY_FILE are both set/);
    expect(() => load({ ...production(), PVP_SECRET_KEY: "", PVP_SECRET_KEY_FILE: join(dir, "nope") })).toThrow(/^PVP_SECRET_KEY_FILE must name a readable file/);
  });

  it("the foreign ledgers file: evm ledgers with tokens per currency; keys only by reference, from env or a 0600 file", () => {
    const payerFile = secretFile("payer-2", `0x${"33".repeat(32)}`, 0o600);
    const ledgers = join(dir, "ledgers.json");
    const entry = {
      rpcUrl: "http://127.0.0.1:8546",
      chainId: 31337,
      deploymentsFile: "31337.json",
      confirmations: 2,
      tokens: { AED: { address: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", decimals: 6 }, JPY: { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", decimals: 0 } },
      payerKeys: [{ env: "FCB_PAYER_KEY" }, { file: payerFile }],
    };
    writeFileSync(ledgers, JSON.stringify({ "evm:fcb": entry }));
    const env = { ...production(), PVP_FOREIGN_LEDGERS_FILE: ledgers, FCB_PAYER_KEY: KEY };
    const [fcb] = load(env).pvp!.foreignLedgers;
    expect(fcb).toMatchObject({ name: "evm:fcb", chainId: 31337, hashTimeLock: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", fromBlock: 2n, confirmations: 2 });
    expect(fcb!.tokens["AED"]!.unitsPerMinor).toBe(10_000n);
    expect(fcb!.tokens["JPY"]!.unitsPerMinor).toBe(1n);
    expect(fcb!.payerKeys).toEqual([KEY, `0x${"33".repeat(32)}`]);

    const refused = (ledgerEntries: Record<string, unknown>, extra: Record<string, string> = {}) => {
      writeFileSync(ledgers, JSON.stringify(ledgerEntries));
      return () => load({ ...env, ...extra });
    };
    expect(refused({ "evm:fcb": entry }, { FCB_PAYER_KEY: "" })).toThrow(/^PVP_FOREIGN_LEDGERS_FILE evm:fcb.payerKeys\[0\] names FCB_PAYER_KEY, which is unset$/);
    expect(refused({ "evm:fcb": { ...entry, payerKeys: [`0x${"44".repeat(32)}`] } })).toThrow(/keys are never inline/);
    expect(refused({ fcb: entry })).toThrow(/^PVP_FOREIGN_LEDGERS_FILE fcb must be named evm:<name>/);
    expect(refused({ "evm:fcb": { ...entry, tokens: { AED: { address: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", decimals: 1 } } } })).toThrow(/tokens.AED.decimals must be an integer from 2/);
    expect(refused({ "evm:fcb": { ...entry, chainId: 1 } })).toThrow(/evm:fcb.deploymentsFile is for chain 31337, not 1/);
    chmodSync(payerFile, 0o644);
    expect(refused({ "evm:fcb": entry })).toThrow(/must not be readable by group or others/);
    chmodSync(payerFile, 0o600);
  });

  it("a foreign central bank's gateway starts without a DT ledger when it answers on a ledger of its own", () => {
    const ledgers = join(dir, "own-ledger.json");
    const own = { rpcUrl: "http://127.0.0.1:8546", chainId: 31337, deploymentsFile: "31337.json", tokens: { AED: { address: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", decimals: 2 } }, payerKeys: [{ env: "FCB_PAYER_KEY" }] };
    writeFileSync(ledgers, JSON.stringify({ "evm:fcb": own }));
    const foreign = { DATABASE_URL: "postgres://postgres@127.0.0.1:1/none", PVP_AGENT_BIC: "FCBKAEAD", PVP_SECRET_KEY: SEED, PVP_SIGNING_KEY: SEED, PVP_SIGNING_KEY_ID: "FCBKAEAD-1", PVP_FOREIGN_LEDGERS_FILE: ledgers, FCB_PAYER_KEY: KEY, PVP_HOME_CURRENCY: "AED" };
    const settings = load({ ...foreign, PVP_RESPONDER_LEDGER: "evm:fcb" });
    expect(settings.dtLedger).toBeUndefined();
    expect(settings.pvp).toMatchObject({ agent: "FCBKAEAD", responderLedger: "evm:fcb" });
    expect(() => load(foreign)).toThrow(/^PVP_AGENT_BIC needs a ledger of our own: DT_LEDGER_URL or DT_LEDGER_IN_PROCESS=true for the DT ledger, or \(a central bank on its own ledger\) PVP_RESPONDER_LEDGER=evm:<name>/);
  });

  it("tenge-gateway start stops on a bad setting before anything starts: one line naming it, exit code 2", async () => {
    const err: string[] = [];
    const out: string[] = [];
    // The database is unreachable too, but the settings are checked first.
    const env = { ...production(), PVP_SECRET_KEY: "", PORT: "0", DATA_DIR: join(dir, "never-created") };
    const code = await main(["start"], { out: (line) => out.push(line), err: (line) => err.push(line), env });
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toEqual([expect.stringMatching(/^tenge-gateway start: PVP_SECRET_KEY must hold 32 bytes/)]);
  });
  it("the timelock policy: defaults, short test values, and a policy that breaks the safety rules refused with one line", async () => {
    expect(load(production()).pvp?.timelock).toEqual({ lockWindowSeconds: 300, clockDriftSeconds: 30, timeToActSeconds: 120 });
    const short = { PVP_LOCK_WINDOW_SECONDS: "60", PVP_CLOCK_DRIFT_SECONDS: "5", PVP_TIME_TO_ACT_SECONDS: "20", PVP_STATUS_REQUEST_AFTER_SECONDS: "5" };
    expect(load({ ...production(), ...short }).pvp).toMatchObject({ timelock: { lockWindowSeconds: 60, clockDriftSeconds: 5, timeToActSeconds: 20 }, statusRequestAfterSeconds: 5 });
    // No responder could lock: the window is shorter than drift + time to act.
    expect(() => load({ ...production(), ...short, PVP_LOCK_WINDOW_SECONDS: "25" })).toThrow(/PVP_LOCK_WINDOW_SECONDS must exceed/);
    // A lost reveal would not be chased before the claim deadline.
    expect(() => load({ ...production(), ...short, PVP_STATUS_REQUEST_AFTER_SECONDS: "15" })).toThrow(/PVP_STATUS_REQUEST_AFTER_SECONDS must be at most half/);
    // The default expiries would outlive the longest lock allowed.
    expect(() => load({ ...production(), PVP_MAX_LOCK_SECONDS: "900" })).toThrow(/PVP_MAX_LOCK_SECONDS must be at least 960/);
    expect(() => load({ ...production(), PVP_CLOCK_DRIFT_SECONDS: "0" })).toThrow(/PVP_CLOCK_DRIFT_SECONDS/);
    const err: string[] = [];
    const env = { ...production(), ...short, PVP_LOCK_WINDOW_SECONDS: "25", PORT: "0", DATA_DIR: join(dir, "never-created-2") };
    expect(await main(["start"], { out: () => undefined, err: (line) => err.push(line), env })).toBe(2);
    expect(err).toEqual([expect.stringMatching(/^tenge-gateway start: PVP_LOCK_WINDOW_SECONDS must exceed/)]);
  });
});
