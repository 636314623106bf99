import { httpDtLedger } from "../../../src/dt-ledger/http/client-adapter.ts";
import { ed25519PrivateKey, generateEd25519 } from "../../../src/identity/http-signature.ts";
import { dtLedgerLeg } from "../../../src/pvp/legs/dt-ledger-leg.ts";
import { createTestDatabase } from "../../support/database.ts";
import { migratePvp, VirtualClock } from "../../support/pvp/harness.ts";
import { startDtStack } from "../../support/pvp/dt-stack.ts";
import { legInstruction, legPortContract } from "./contract.ts";

/** The DT ledger leg on the real DT ledger (embedded, on PGlite or PostgreSQL), as the gateway participant. */
legPortContract("DT ledger leg", async () => {
  const testDb = await createTestDatabase();
  await migratePvp(testDb.db);
  const clock = new VirtualClock(Date.now());
  const dt = await startDtStack(testDb.db, clock.now);
  const { aigerim, daniyar, altynExchange } = dt.demo.accounts;
  return {
    port: dtLedgerLeg({ port: dt.port, clock }),
    async newLeg({ hashLock, expiresInMs, short, role }) {
      const payer = short ? daniyar.id : aigerim.id;
      const amount = short ? (await dt.available(daniyar.id)) + 1n : 1_000n;
      const terms = { ledger: "dt", payer, beneficiary: altynExchange.id, amount, currency: "KZT", hashLock, expiresAt: new Date(clock.ms + expiresInMs) };
      return legInstruction(terms, { role });
    },
    advance: async (ms) => clock.advance(ms),
    settle: async (leg) => leg,
    balances: async (leg) => ({ payer: await dt.available(leg.terms.payer), beneficiary: await dt.available(leg.terms.beneficiary) }),
    // The DT ledger's HTTP API at an address nobody listens on.
    unreachable: async () =>
      dtLedgerLeg({
        port: httpDtLedger({ baseUrl: "http://127.0.0.1:9", participantId: dt.demo.participants.gateway.id, signingKey: ed25519PrivateKey(generateEd25519().seed) }),
        clock,
      }),
    traits: { earlyRefund: false, refusesByReport: false },
    close: () => testDb.drop(),
  };
});
