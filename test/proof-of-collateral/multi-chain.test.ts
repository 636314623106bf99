import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { migrate, migrationsFrom } from "../../src/persistence/migrations.ts";
import { ed25519 } from "@noble/curves/ed25519.js";
import { signAttestation, type Attestation, type AttestationDocument } from "../../src/proof-of-collateral/attestation.ts";
import { verifyAttestation } from "../../src/proof-of-collateral/page/verify-attestation.js";
import { createTestDatabase } from "../support/database.ts";
import { createTwoChainWorld, SECOND_CHAIN_ID, type TwoChainWorld } from "./two-chains.ts";

const FIRST_CHAIN_ID = 31337;

/** One signed attestation over two EDR chains and one DT pool, its history, and `collateral verify` per chain. */
describe("proof of collateral over two chains", () => {
  let two: TwoChainWorld;
  let document: AttestationDocument;
  const rpcUrls = () => ({ [FIRST_CHAIN_ID]: two.world.chain.rpcUrl, [SECOND_CHAIN_ID]: two.second.chain.rpcUrl });

  beforeAll(async () => {
    two = await createTwoChainWorld();
    await two.mint("first", 1_200_000n);
    await two.attestations.renew();
    await two.mint("second", 300_000n);
    document = await two.attestations.renew();
  });
  afterAll(async () => {
    await two?.close();
  });

  it("signs one version 2 document: each chain's token, supply, block and allotment, and the total", async () => {
    const attestation = document.attestation;
    expect(attestation.version).toBe(2);
    expect(attestation.chains.map((chain) => [chain.chainId, chain.token, chain.supply])).toEqual([
      [FIRST_CHAIN_ID, two.world.token, "1200000"],
      [SECOND_CHAIN_ID, two.second.token, "300000"],
    ]);
    for (const [index, tokenChain] of [two.world.tokenChain, two.second.tokenChain].entries()) {
      const chain = attestation.chains[index]!;
      expect(await tokenChain.blockHash(BigInt(chain.blockNumber))).toBe(chain.blockHash);
      expect(await tokenChain.totalSupply(BigInt(chain.blockNumber))).toBe(BigInt(chain.supply));
      // These tokens have accepted no issuance allotment and require none.
      expect(chain.allotment).toBeNull();
    }
    expect(attestation.totalSupply).toBe("1500000");
    expect(attestation.collateral.balance).toBe("1500000");
    expect(attestation.collateral.domain).toMatchObject({ chainId: FIRST_CHAIN_ID, verifyingContract: two.world.token });
    expect(attestation.ratio).toBe("1.0000");
    expect(attestation.status).toEqual({ state: "healthy", alerts: [] });
    expect(document.verification.rpcUrls).toEqual({ [FIRST_CHAIN_ID]: two.world.chain.rpcUrl, [SECOND_CHAIN_ID]: two.second.chain.rpcUrl });
    expect(document.verification.cli).toContain(`--rpc ${SECOND_CHAIN_ID}=${two.second.chain.rpcUrl}`);
    const served = await fetch(`${two.baseUrl}/proof-of-collateral`);
    expect(await served.json()).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it("verifies every chain through its own RPC", async () => {
    const result = await verifyAttestation(document, { rpcUrls: rpcUrls() });
    expect(result.checks.filter((check) => !check.ok)).toEqual([]);
    expect(result.verified).toBe(true);
    expect(result.chains).toEqual([
      { chainId: FIRST_CHAIN_ID, verified: true, failed: [] },
      { chainId: SECOND_CHAIN_ID, verified: true, failed: [] },
    ]);
    const perChain = (chainId: number) => result.checks.filter((check) => check.chainId === chainId).map((check) => check.id);
    for (const chainId of [FIRST_CHAIN_ID, SECOND_CHAIN_ID]) {
      expect(perChain(chainId)).toEqual(["chain-id", "operator-key-on-chain", "segregated-account", "block-hash", "supply", "allotment"]);
    }
    expect(result.checks.find((check) => check.id === "total-supply")!.detail).toBe("15 000.00 KZT over 2 chains");
    expect(result.checks.find((check) => check.id === "coverage")!.detail).toBe("collateral 15 000.00 KZT >= total supply 15 000.00 KZT");
  });

  it("fails, naming the chain, without an RPC for a chain or with another chain's RPC", async () => {
    const missing = await verifyAttestation(document, { rpcUrls: { [FIRST_CHAIN_ID]: two.world.chain.rpcUrl } });
    expect(missing.verified).toBe(false);
    expect(missing.chains).toEqual([
      { chainId: FIRST_CHAIN_ID, verified: true, failed: [] },
      { chainId: SECOND_CHAIN_ID, verified: false, failed: ["rpc"] },
    ]);
    const swapped = await verifyAttestation(document, { rpcUrls: { [FIRST_CHAIN_ID]: two.second.chain.rpcUrl, [SECOND_CHAIN_ID]: two.world.chain.rpcUrl } });
    expect(swapped.chains.map((chain) => [chain.chainId, chain.failed[0]])).toEqual([
      [FIRST_CHAIN_ID, "chain-id"],
      [SECOND_CHAIN_ID, "chain-id"],
    ]);
  });

  it("catches a changed total and a chain left out, even before the signature", async () => {
    const padded = structuredClone(document);
    padded.attestation.totalSupply = "1";
    const result = await verifyAttestation(padded, { rpcUrls: rpcUrls() });
    expect(result.checks.filter((check) => !check.ok).map((check) => check.id)).toEqual(["gateway-signature", "total-supply"]);
    const dropped = structuredClone(document);
    dropped.attestation.chains.pop();
    const withoutSecond = await verifyAttestation(dropped, { rpcUrls: rpcUrls() });
    expect(withoutSecond.checks.filter((check) => !check.ok).map((check) => check.id)).toEqual(["gateway-signature", "total-supply"]);
  });

  it("lists the total and each chain in the history, in KZT major units", async () => {
    const history = (await (await fetch(`${two.baseUrl}/proof-of-collateral/history?limit=2`)).json()) as {
      items: { supply: string; collateral: string; blockNumber: string; chains: { chainId: number; supply: string; blockNumber: string; issuanceLimit: string | null }[] }[];
    };
    const [latest, earlier] = history.items;
    expect(latest).toMatchObject({ collateral: "15000.00", supply: "15000.00", blockNumber: document.attestation.chains[0]!.blockNumber });
    expect(latest!.chains).toEqual([
      { chainId: FIRST_CHAIN_ID, token: two.world.token, supply: "12000.00", blockNumber: document.attestation.chains[0]!.blockNumber, issuanceLimit: null },
      { chainId: SECOND_CHAIN_ID, token: two.second.token, supply: "3000.00", blockNumber: document.attestation.chains[1]!.blockNumber, issuanceLimit: null },
    ]);
    expect(earlier!.chains.map((chain) => [chain.chainId, chain.supply])).toEqual([
      [FIRST_CHAIN_ID, "12000.00"],
      [SECOND_CHAIN_ID, "0.00"],
    ]);
  });

  it("still verifies a version 1 document (one `supply`, no chains), as old rows serve it", async () => {
    const { chains, totalSupply: _total, version: _version, ...rest } = document.attestation;
    const { supply, allotment: _allotment, ...first } = chains[0]!;
    const v1 = { ...rest, version: 1, supply: { ...first, totalSupply: supply } };
    const key = ed25519.utils.randomSecretKey();
    const old = { attestation: v1, gatewaySignature: signAttestation(v1 as unknown as Attestation, key) };
    const result = await verifyAttestation(old, { rpcUrl: two.world.chain.rpcUrl, gatewayPublicKey: Buffer.from(ed25519.getPublicKey(key)).toString("hex") });
    expect(result.checks.filter((check) => !check.ok)).toEqual([]);
    expect(result.checks.map((check) => check.id)).toEqual([
      "gateway-signature", "operator-signature", "statement-domain",
      "chain-id", "operator-key-on-chain", "segregated-account", "block-hash", "supply",
      "total-supply", "coverage", "freshness",
    ]);
  });

  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line), env: {} }, out, err };
  }

  it("`collateral verify` takes one RPC per chain and passes on both", async () => {
    const { io, out } = capture();
    const code = await main(["collateral", "verify", "--url", two.baseUrl, "--rpc", `${FIRST_CHAIN_ID}=${two.world.chain.rpcUrl}`, "--rpc", `${SECOND_CHAIN_ID}=${two.second.chain.rpcUrl}`], io);
    expect(out.filter((line) => line.startsWith("FAIL"))).toEqual([]);
    expect(code).toBe(0);
    expect(out.at(-1)).toBe("VERIFIED");
    expect(out).toContain(`chain ${SECOND_CHAIN_ID}: supply 3 000.00 KZT at block ${document.attestation.chains[1]!.blockNumber}`);
    expect(out.at(-2)).toBe("collateral 15 000.00 KZT, total supply 15 000.00 KZT, ratio 1.0000");
  });

  it("`collateral verify` exits 1 naming the chain whose RPC is missing or wrong", async () => {
    const missing = capture();
    expect(await main(["collateral", "verify", "--url", two.baseUrl, "--rpc", two.world.chain.rpcUrl], missing.io)).toBe(1);
    expect(missing.out.at(-1)).toBe(`NOT VERIFIED: chain ${SECOND_CHAIN_ID} disagrees (rpc)`);
    const wrong = capture();
    expect(await main(["collateral", "verify", "--url", two.baseUrl, "--rpc", two.world.chain.rpcUrl, "--rpc", `${SECOND_CHAIN_ID}=${two.world.chain.rpcUrl}`], wrong.io)).toBe(1);
    expect(wrong.out.at(-1)).toMatch(new RegExp(`^NOT VERIFIED: chain ${SECOND_CHAIN_ID} disagrees \\(chain-id, `));
    const bad = capture();
    await expect(main(["collateral", "verify", "--url", two.baseUrl, "--rpc", "31337:http://x"], bad.io)).resolves.not.toBe(0);
  });

  it("fails the chain whose block was reorganised away after the attestation, with a valid signature", async () => {
    const rpc = async (method: string, params: unknown[] = []) => {
      const response = await fetch(two.second.chain.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
      return ((await response.json()) as { result: unknown }).result;
    };
    const snapshot = await rpc("evm_snapshot");
    await two.mint("second", 50_000n);
    const attested = await two.attestations.renew();
    expect(attested.attestation.chains[1]!.supply).toBe("350000");
    // The second chain drops the mint's block and builds others in its place.
    expect(await rpc("evm_revert", [snapshot])).toBe(true);
    for (let i = 0; i < 3; i++) await rpc("evm_mine");
    const result = await verifyAttestation(attested, { rpcUrls: rpcUrls() });
    expect(result.verified).toBe(false);
    expect(result.checks.find((check) => check.id === "gateway-signature")!.ok).toBe(true);
    expect(result.chains[0]).toEqual({ chainId: FIRST_CHAIN_ID, verified: true, failed: [] });
    expect(result.chains[1]!.failed).toEqual(expect.arrayContaining(["block-hash", "supply"]));
    const { io, out } = capture();
    expect(await main(["collateral", "verify", "--url", two.baseUrl, "--rpc", `${FIRST_CHAIN_ID}=${two.world.chain.rpcUrl}`, "--rpc", `${SECOND_CHAIN_ID}=${two.second.chain.rpcUrl}`], io)).toBe(1);
    expect(out.at(-1)).toMatch(new RegExp(`^NOT VERIFIED: chain ${SECOND_CHAIN_ID} disagrees \\(.*block-hash`));
    // The next attestation reads the chain as it is now, and agrees with it again.
    expect((await verifyAttestation(await two.attestations.renew(), { rpcUrls: rpcUrls() })).verified).toBe(true);
  });
});

describe("attestations stored before version 2", () => {
  it("keep their chain in the history after migration 0003", async () => {
    const testDb = await createTestDatabase();
    try {
      const all = gatewayMigrations();
      const proof = migrationsFrom("proof_of_collateral", new URL("../../src/proof-of-collateral/migrations/", import.meta.url));
      await migrate(testDb.db, [{ ...proof, migrations: proof.migrations.filter((migration) => migration.version < 3) }]);
      const v1 = { attestation: { version: 1, supply: { chainId: 31337, token: "0x5FbDB2315678afecb367f032d93F642f64180aa3", totalSupply: "250000" } } };
      await testDb.db.query(
        `INSERT INTO proof_of_collateral.attestations (issued_at, collateral, supply, ledger_height, block_number, healthy, alerts, document)
         VALUES (now(), 300000, 250000, 7, 9, true, '{}', $1)`,
        [JSON.stringify(v1)],
      );
      await migrate(testDb.db, all.filter((set) => set.component === "proof_of_collateral"));
      const rows = (await testDb.db.query<{ chain_id: string; token: string; supply: string; block_number: string; issuance_limit: string | null }>(
        "SELECT chain_id::text, token, supply::text, block_number::text, issuance_limit::text FROM proof_of_collateral.attestation_chains",
      )).rows;
      expect(rows).toEqual([{ chain_id: "31337", token: v1.attestation.supply.token, supply: "250000", block_number: "9", issuance_limit: null }]);
    } finally {
      await testDb.drop();
    }
  });
});
