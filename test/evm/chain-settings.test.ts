import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/config.ts";
import { chainFor, parseChainSettings } from "../../src/evm/chain-settings.ts";

const TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const HTLC = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const KEY = `0x${"11".repeat(32)}`;
const chain = (chainId: number, extra: Record<string, unknown> = {}) => ({ chainId, rpcUrl: `http://127.0.0.1:${8545 + chainId % 10}`, token: TOKEN, htlc: HTLC, ...extra });
const env = (chains: unknown, more: Record<string, string> = {}) => ({ STABLECOIN_CHAINS: JSON.stringify(chains), ...more });

/** The one-line message of the ConfigError the settings raise. */
function refusal(settings: Record<string, string | undefined>): string {
  try {
    parseChainSettings(settings);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain("\n");
    return (error as Error).message;
  }
  throw new Error("expected the settings to be refused");
}

describe("multi-chain stablecoin settings", () => {
  it("read every chain with its addresses, confirmations, reorganisation window and minter key; the first is the default", () => {
    const chains = parseChainSettings(env(
      [chain(31337, { mintConfirmations: 2, redeemConfirmations: 3, reorgWindowBlocks: 8 }), chain(31338, { token: TOKEN.toLowerCase() })],
      { STABLECOIN_MINTER_KEY_31337: KEY },
    ));
    expect(chains).toEqual([
      { chainId: 31337, rpcUrl: "http://127.0.0.1:8552", token: TOKEN, htlc: HTLC, mintConfirmations: 2, redeemConfirmations: 3, reorgWindowBlocks: 8, startBlock: 0n, minterKey: KEY },
      { chainId: 31338, rpcUrl: "http://127.0.0.1:8553", token: TOKEN, htlc: HTLC, mintConfirmations: 1, redeemConfirmations: 1, reorgWindowBlocks: 32, startBlock: 0n, minterKey: undefined },
    ]);
    expect(chainFor(chains, undefined)?.chainId).toBe(31337);
    expect(chainFor(chains, 31338)?.chainId).toBe(31338);
    expect(chainFor(chains, 56)).toBeUndefined();
  });

  it("read a chain's minter key from its 0600 file", () => {
    const dir = mkdtempSync(join(tmpdir(), "chains-"));
    const file = join(dir, "minter-56.key");
    writeFileSync(file, `${KEY}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    expect(parseChainSettings(env([chain(56)], { STABLECOIN_MINTER_KEY_56_FILE: file }))[0]?.minterKey).toBe(KEY);
    chmodSync(file, 0o644);
    expect(refusal(env([chain(56)], { STABLECOIN_MINTER_KEY_56_FILE: file }))).toMatch(/^STABLECOIN_MINTER_KEY_56_FILE must not be readable by group or others/);
  });

  it("refuse a duplicate chain id, a key for a chain not listed, and a key inside the JSON, never echoing it", () => {
    expect(refusal(env([chain(56), chain(56)]))).toBe("STABLECOIN_CHAINS names chain 56 twice");
    expect(refusal(env([chain(56)], { STABLECOIN_MINTER_KEY_97: KEY }))).toBe("STABLECOIN_MINTER_KEY_97 names chain 97, which STABLECOIN_CHAINS does not list");
    const inline = refusal(env([chain(56, { minterKey: KEY })]));
    expect(inline).toBe("STABLECOIN_CHAINS chain 1 must not carry a key (minterKey); use STABLECOIN_MINTER_KEY_<chainId>_FILE");
    expect(inline).not.toContain(KEY);
    expect(refusal(env([chain(56)], { STABLECOIN_MINTER_KEY_56: "0x1234" }))).toBe("STABLECOIN_MINTER_KEY_56 must be a 0x-prefixed 32-byte hex private key");
  });

  it("refuse missing, malformed or out-of-range fields with the chain and the field named", () => {
    expect(refusal({})).toBe("STABLECOIN_CHAINS must name at least one chain");
    expect(refusal({ STABLECOIN_CHAINS: "[{" })).toBe("STABLECOIN_CHAINS must be a JSON array of chains");
    expect(refusal(env([]))).toBe("STABLECOIN_CHAINS must be a non-empty JSON array of chains");
    expect(refusal(env(["56"]))).toBe("STABLECOIN_CHAINS chain 1 must be a JSON object");
    expect(refusal(env([chain(0)]))).toBe(`STABLECOIN_CHAINS chain 1 chainId must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}`);
    expect(refusal(env([chain(56), chain(97, { rpcUrl: "ftp://rpc" })]))).toBe("STABLECOIN_CHAINS chain 2 (chain id 97) rpcUrl must be a http: or https: or ws: or wss: URL, got ftp:");
    expect(refusal(env([chain(56, { token: "0x1234" })]))).toBe("STABLECOIN_CHAINS chain 1 (chain id 56) token must be a 0x-prefixed 20-byte address");
    expect(refusal(env([chain(56, { htlc: HTLC.replace("E7734", "e7734") })]))).toBe("STABLECOIN_CHAINS chain 1 (chain id 56) htlc has a wrong checksum");
    expect(refusal(env([chain(56, { htlc: TOKEN })]))).toBe("STABLECOIN_CHAINS chain 1 (chain id 56) gives the token and the HTLC the same address");
    expect(refusal(env([chain(56, { mintConfirmations: 0 })]))).toBe("STABLECOIN_CHAINS chain 1 (chain id 56) mintConfirmations must be an integer from 1 to 1000");
    expect(refusal(env([chain(56, { confirmations: 3 })]))).toBe("STABLECOIN_CHAINS chain 1 has an unknown field confirmations");
  });

  it("take a chain's public RPC for the proof of collateral's verifiers, an http(s) URL", () => {
    expect(parseChainSettings(env([chain(56, { publicRpcUrl: "https://rpc.example/bsc" }), chain(97)])).map((entry) => entry.publicRpcUrl)).toEqual(["https://rpc.example/bsc", undefined]);
    expect(refusal(env([chain(56, { publicRpcUrl: "ws://rpc" })]))).toBe("STABLECOIN_CHAINS chain 1 (chain id 56) publicRpcUrl must be a http: or https: URL, got ws:");
    expect(refusal(env([chain(56, { publicRpcUrl: 7 })]))).toBe("STABLECOIN_CHAINS chain 1 (chain id 56) publicRpcUrl must be a URL");
  });
});
