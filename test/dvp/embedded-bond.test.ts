import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, http, type Address } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecuritiesHtlcLeg } from "../../src/dvp/legs/securities-htlc-leg.ts";
import { DEMO_BOND } from "../../src/evm/deploy-security.ts";
import { securityTokenAbi } from "../../src/evm/generated/contracts.ts";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { startEmbeddedStack, type EmbeddedStack } from "../../src/gateway/embedded.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";

/** `npm start`'s embedded stack deploys the demo bond: a selling broker's holding issued, a buying broker's eligible. */
describe("the demo bond on the embedded stack", () => {
  let testDb: TestDatabase;
  let embedded: EmbeddedStack;
  const dataDir = mkdtempSync(join(tmpdir(), "tg-embedded-bond-"));
  let sellingBroker: Address, buyingBroker: Address;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    await migrate(testDb.db, gatewayMigrations());
    embedded = await startEmbeddedStack({ db: testDb.db, directory: join(dataDir, "embedded"), chainHost: "127.0.0.1", chainPort: 0, dtLedgerHost: "127.0.0.1", dtLedgerPort: 0 });
    sellingBroker = privateKeyToAddress(embedded.chain.accounts[7]!);
    buyingBroker = privateKeyToAddress(embedded.chain.accounts[8]!);
  });
  afterAll(async () => {
    await embedded?.stop();
    await testDb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("records the bond in the deployments file with the HTLC as its custodian", () => {
    expect(embedded.deployment.contracts.SecurityToken).toBeDefined();
    expect(embedded.deployment.security).toMatchObject({
      isin: DEMO_BOND.isin,
      decimals: DEMO_BOND.decimals,
      holders: [{ address: sellingBroker, units: 1_000n }, { address: buyingBroker, units: 0n }],
      custodians: [embedded.deployment.contracts.HashTimeLock.address],
    });
  });

  it("lets the selling broker deliver to the buying broker and nobody else, as the pre-check says", async () => {
    const client = createPublicClient({ transport: http(embedded.chain.rpcUrl) });
    const token = { address: embedded.deployment.contracts.SecurityToken!.address, abi: securityTokenAbi } as const;
    expect(await client.readContract({ ...token, functionName: "balanceOf", args: [sellingBroker] })).toBe(1_000n);
    const leg = await SecuritiesHtlcLeg.connect({
      rpcUrl: embedded.chain.rpcUrl,
      hashTimeLock: embedded.deployment.contracts.HashTimeLock.address,
      security: token.address,
      signerKeys: [embedded.chain.accounts[7]!],
    });
    const terms = { payer: sellingBroker, beneficiary: buyingBroker, amount: 100n, currency: DEMO_BOND.isin };
    expect(await leg.precheck(terms)).toEqual({ deliverable: true });
    expect(await leg.precheck({ ...terms, beneficiary: privateKeyToAddress(embedded.chain.accounts[9]!) })).toEqual({ deliverable: false, refusal: "receiverNotEligible" });
  });
});
