import { randomBytes } from "node:crypto";
import type { HashLockedLegPort } from "../../../src/pvp/leg-port.ts";
import { VirtualClock } from "../../support/pvp/harness.ts";
import { SimulatedLedger } from "../../support/pvp/simulated-ledger.ts";
import { legInstruction, legPortContract } from "./contract.ts";

/** The double the engine tests and the fault runs stand on, held to the same contract as the real legs. */
legPortContract("SimulatedLedger", async () => {
  const clock = new VirtualClock();
  const ledger = new SimulatedLedger("sim", () => clock.ms, { allowsEarlyRefund: false });
  return {
    port: ledger,
    async newLeg({ hashLock, expiresInMs, short, role }) {
      const payer = `PAYER-${randomBytes(4).toString("hex")}`;
      ledger.fund(payer, short ? 999n : 100_000n);
      const terms = { ledger: "sim", payer, beneficiary: `BENEFICIARY-${randomBytes(4).toString("hex")}`, amount: 1_000n, currency: "KZT", hashLock, expiresAt: new Date(clock.ms + expiresInMs) };
      return legInstruction(terms, { role });
    },
    advance: async (ms) => clock.advance(ms),
    settle: async (leg) => leg,
    balances: async (leg) => ({ payer: ledger.balance(leg.terms.payer), beneficiary: ledger.balance(leg.terms.beneficiary) }),
    async unreachable() {
      // The same ledger, down for every call made through this port.
      const down = <T>(call: () => Promise<T>) => async (): Promise<T> => {
        ledger.down = true;
        try {
          return await call();
        } finally {
          ledger.down = false;
        }
      };
      const port: HashLockedLegPort = {
        ledger: ledger.ledger,
        lock: (leg) => down(() => ledger.lock(leg))(),
        claim: (leg, preimage) => down(() => ledger.claim(leg, preimage))(),
        refund: (leg, options) => down(() => ledger.refund(leg, options))(),
        observe: (leg) => down(() => ledger.observe(leg))(),
        now: () => down(() => ledger.now())(),
      };
      return port;
    },
    traits: { earlyRefund: false, refusesByReport: false },
    close: async () => {},
  };
});

legPortContract("SimulatedLedger with early refunds", async () => {
  const clock = new VirtualClock();
  const ledger = new SimulatedLedger("sim", () => clock.ms, { allowsEarlyRefund: true });
  return {
    port: ledger,
    async newLeg({ hashLock, expiresInMs, short, role }) {
      const payer = `PAYER-${randomBytes(4).toString("hex")}`;
      ledger.fund(payer, short ? 999n : 100_000n);
      const terms = { ledger: "sim", payer, beneficiary: `BENEFICIARY-${randomBytes(4).toString("hex")}`, amount: 1_000n, currency: "AED", hashLock, expiresAt: new Date(clock.ms + expiresInMs) };
      return legInstruction(terms, { role });
    },
    advance: async (ms) => clock.advance(ms),
    settle: async (leg) => leg,
    balances: async (leg) => ({ payer: ledger.balance(leg.terms.payer), beneficiary: ledger.balance(leg.terms.beneficiary) }),
    async unreachable() {
      const other = new SimulatedLedger("sim", () => clock.ms);
      other.down = true;
      return other;
    },
    traits: { earlyRefund: true, refusesByReport: false },
    close: async () => {},
  };
});
