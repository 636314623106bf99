import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatKzt, parseKzt } from "../../src/stablecoin/kzt.ts";
import { ensureDemoExchange, ExchangeStore } from "../../src/stablecoin/exchanges.ts";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import { createTestDatabase } from "../support/database.ts";
import { attestationKey, loadStablecoinEnvironment } from "../../src/stablecoin/stablecoin-config.ts";

describe("stablecoin configuration and amounts", () => {
  it("reads settings from the environment and names the variable of a bad value", () => {
    const environment = loadStablecoinEnvironment({ STABLECOIN_REDEEM_CONFIRMATIONS: "12", COLLATERAL_ATTESTATION_INTERVAL_SECONDS: "5" });
    expect(environment.settings.redeemConfirmations).toBe(12);
    expect(environment.settings.attestationIntervalMs).toBe(5000);
    expect(environment.minterKey).toBeUndefined();
    expect(() => loadStablecoinEnvironment({ STABLECOIN_MINT_CONFIRMATIONS: "0" })).toThrow(/^STABLECOIN_MINT_CONFIRMATIONS /);
    expect(() => loadStablecoinEnvironment({ STABLECOIN_MINTER_KEY: "0x1234" })).toThrow(/^STABLECOIN_MINTER_KEY /);
    expect(() => loadStablecoinEnvironment({ STABLECOIN_MINTER_KEY: "0x1234" })).not.toThrow(/0x1234/);
  });

  it("keeps one generated attestation key in DATA_DIR, readable by the owner only", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tg-attestation-"));
    try {
      const environment = loadStablecoinEnvironment({});
      const first = attestationKey(environment, dataDir);
      expect(first).toHaveLength(32);
      expect(Buffer.from(attestationKey(environment, dataDir)).equals(Buffer.from(first))).toBe(true);
      expect(statSync(join(dataDir, "attestation-key.json")).mode & 0o077).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("converts KZT at the edge to tiyn and back, refusing anything but up to 2 decimals", () => {
    expect(parseKzt("1500")).toBe(150_000n);
    expect(parseKzt("1500.5")).toBe(150_050n);
    expect(parseKzt("0.01")).toBe(1n);
    expect(formatKzt(150_050n)).toBe("1500.50");
    for (const bad of ["-1", "1.001", "1e3", " 1", ""]) expect(() => parseKzt(bad), bad).toThrow(/KZT amount/);
  });

  it("onboards the embedded demo exchange once and finds it on later starts", async () => {
    const testDb = await createTestDatabase();
    try {
      await migrate(testDb.db, gatewayMigrations());
      const store = new ExchangeStore(testDb.db);
      const demo = { dtAccount: "DA-DEMO-EXCHANGE", evmAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" };
      const first = await ensureDemoExchange(store, demo);
      expect(first.apiKey).toMatch(/^tgk_/);
      const again = await ensureDemoExchange(store, demo);
      expect(again.apiKey).toBeUndefined();
      expect(again.exchange.id).toBe(first.exchange.id);
    } finally {
      await testDb.drop();
    }
  });
});
