import { randomBytes, randomUUID } from "node:crypto";
import type { Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashLockOf } from "../../../src/core/hash-lock.ts";
import { isoDateTime, messageIdOf } from "../../../src/pvp/protocol/pvp-messages.ts";
import { LegError, type HashLockedLegPort, type LegErrorCode, type LegInstruction } from "../../../src/pvp/leg-port.ts";

/**
 * What one leg adapter needs to run the contract: the port, fresh legs on its ledger, a way to move the
 * ledger's clock, and to let the ledger's far side (a correspondent's gateway) act on what it was sent.
 */
export interface LegContractHarness {
  port: HashLockedLegPort;
  /**
   * A fresh leg under `hashLock`, expiring `expiresInMs` after the ledger's own now, from a payer that holds
   * its amount (or, `short`, less than it) to a beneficiary on this ledger. `role` is the PvP's role here.
   */
  newLeg(options: { hashLock: Hex; expiresInMs: number; short?: boolean; role?: "initiator" | "responder" }): Promise<LegInstruction>;
  /** Moves the ledger's clock forward. */
  advance(ms: number): Promise<void>;
  /**
   * Lets the ledger act on what the port asked (a peer gateway answering its messages) and hands the leg
   * back as the engine would next: with the reference the lock returned and the correspondent's reports.
   */
  settle(leg: LegInstruction): Promise<LegInstruction>;
  /** Balances of the leg's payer and beneficiary as the ledger holds them (the peer's own accounts for a peer leg). */
  balances(leg: LegInstruction): Promise<{ payer: bigint; beneficiary: bigint }>;
  /** The same ledger reached through a connection that fails (the ledger down, the peer unreachable). */
  unreachable(): Promise<HashLockedLegPort>;
  /** What differs by nature between ledgers; everything else is the same for all. */
  traits: {
    /** The ledger can give a lock back before its expiry when asked early (a correspondent agreeing to a cancellation). */
    earlyRefund: boolean;
    /**
     * Refusals arrive later as a correspondent's report (observe() shows `refusal`), not from lock() itself:
     * a peer gateway checks an instruction on its own ledger after acknowledging the message.
     */
    refusesByReport: boolean;
  };
  close(): Promise<void>;
}

const MINUTE = 60_000;

function newSecret(): { preimage: Hex; hashLock: Hex } {
  const preimage = `0x${randomBytes(32).toString("hex")}` as Hex;
  return { preimage, hashLock: hashLockOf(preimage) };
}

async function refusal(promise: Promise<unknown>): Promise<{ code: LegErrorCode; permanent: boolean }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LegError) return { code: error.code, permanent: error.permanent };
    throw error;
  }
  throw new Error("expected a LegError, the call succeeded");
}

/** The HashLockedLegPort contract: every leg adapter, and the SimulatedLedger the fault runs stand on, passes it unchanged. */
export function legPortContract(adapter: string, createHarness: () => Promise<LegContractHarness>, timeoutMs = 60_000): void {
  describe(`HashLockedLegPort contract (${adapter})`, { timeout: timeoutMs }, () => {
    let harness: LegContractHarness;
    let port: HashLockedLegPort;

    beforeAll(async () => {
      harness = await createHarness();
      port = harness.port;
    }, 120_000);
    afterAll(() => harness?.close());

    async function locked(options: { expiresInMs?: number; role?: "initiator" | "responder" } = {}) {
      const secret = newSecret();
      const leg = await harness.newLeg({ hashLock: secret.hashLock, expiresInMs: options.expiresInMs ?? 30 * MINUTE, role: options.role });
      const before = await harness.balances(leg);
      const receipt = await port.lock(leg);
      const settled = await harness.settle({ ...leg, reference: receipt.reference });
      return { ...secret, leg: settled, receipt, before };
    }

    it("shows a leg nobody locked as absent", async () => {
      const leg = await harness.newLeg({ hashLock: newSecret().hashLock, expiresInMs: 30 * MINUTE });
      expect((await port.observe(leg)).status).toBe("absent");
    });

    it("locks the amount from the payer under the hash-lock, and the observation shows the instructed terms", async () => {
      const { leg, receipt, before } = await locked();
      expect(receipt.reference).toMatch(/\S/);
      const observation = await port.observe(leg);
      expect(observation).toMatchObject({ status: "locked" });
      expect(observation.termsMismatch).toBeUndefined();
      expect(observation.preimage).toBeUndefined();
      const after = await harness.balances(leg);
      expect(after.payer).toBe(before.payer - leg.terms.amount);
      expect(after.beneficiary).toBe(before.beneficiary);
      if (port.referenceOf) expect(port.referenceOf(leg)).toBe(receipt.reference);
    });

    it("locks once per leg key: a retried lock returns the same reference and moves nothing more", async () => {
      const { leg, receipt, before } = await locked();
      const again = await port.lock(leg);
      expect(again.reference).toBe(receipt.reference);
      const settled = await harness.settle(leg);
      expect((await harness.balances(settled)).payer).toBe(before.payer - leg.terms.amount);
      expect((await port.observe(settled)).status).toBe("locked");
    });

    it("flags a lock whose terms differ from the instructed ones (another amount or hash-lock)", async () => {
      const { leg } = await locked();
      if (harness.traits.refusesByReport) {
        // A correspondent's lock is known only from its report, which is checked against our terms on receipt.
        expect((await port.observe(leg)).termsMismatch).toBeUndefined();
        return;
      }
      expect((await port.observe({ ...leg, terms: { ...leg.terms, amount: leg.terms.amount + 1n } })).termsMismatch).toBe(true);
      expect((await port.observe({ ...leg, terms: { ...leg.terms, hashLock: newSecret().hashLock } })).termsMismatch).toBe(true);
    });

    it("refuses a claim of a leg not locked yet as retryable, moving nothing", async () => {
      const { preimage, hashLock } = newSecret();
      const leg = await harness.newLeg({ hashLock, expiresInMs: 30 * MINUTE });
      if (harness.traits.refusesByReport) return; // a reveal is sent only after the correspondent reported its lock
      expect(await refusal(port.claim(leg, preimage))).toEqual({ code: "UNAVAILABLE", permanent: false });
      expect((await port.observe(leg)).status).toBe("absent");
    });

    it("pays the beneficiary on a claim with the preimage; a retried claim does nothing more", async () => {
      const { leg, preimage, before } = await locked();
      await port.claim(leg, preimage);
      const claimed = await harness.settle(leg);
      expect((await port.observe(claimed)).status).toBe("claimed");
      await port.claim(claimed, preimage);
      const after = await harness.balances(await harness.settle(claimed));
      expect(after).toEqual({ payer: before.payer - leg.terms.amount, beneficiary: before.beneficiary + leg.terms.amount });
      // A claimed leg has nothing left to refund: the refund is done, and moves nothing.
      await port.refund(claimed, { early: false });
      expect((await port.observe(await harness.settle(claimed))).status).toBe("claimed");
    });

    it("shows the preimage of a claimed leg to the responder, who learns the secret from the ledger", async () => {
      const { leg, preimage } = await locked({ role: "responder" });
      await port.claim(leg, preimage);
      const observation = await port.observe(await harness.settle(leg));
      expect(observation.status).toBe("claimed");
      if (!harness.traits.refusesByReport) expect(observation.preimage?.toLowerCase()).toBe(preimage.toLowerCase());
    });

    it("refuses a preimage that does not open the hash-lock, permanently, and the leg stays locked", async () => {
      const { leg, before } = await locked();
      expect(await refusal(port.claim(leg, newSecret().preimage))).toEqual({ code: "WRONG_PREIMAGE", permanent: true });
      expect(await refusal(port.claim(leg, "0x1234"))).toEqual({ code: "WRONG_PREIMAGE", permanent: true });
      const settled = await harness.settle(leg);
      expect((await port.observe(settled)).status).toBe("locked");
      expect((await harness.balances(settled)).beneficiary).toBe(before.beneficiary);
    });

    it("refuses a refund before the expiry as not yet expired (retryable), and keeps the leg locked", async () => {
      const { leg } = await locked();
      const refused = await refusal(port.refund(leg, { early: false }));
      expect(refused).toEqual({ code: "NOT_YET_EXPIRED", permanent: false });
      expect((await port.observe(await harness.settle(leg))).status).toBe("locked");
    });

    it("gives an early refund only where the ledger can, and otherwise refuses it as not yet expired", async () => {
      const { leg, before } = await locked();
      if (harness.traits.earlyRefund) {
        await port.refund(leg, { early: true }).catch((error: unknown) => {
          // A correspondent confirms an agreed cancellation later: the refund is waited for, not refused.
          if (!(error instanceof LegError && error.code === "NOT_YET_EXPIRED")) throw error;
        });
        const settled = await harness.settle(leg);
        expect((await port.observe(settled)).status).toBe("refunded");
        expect((await harness.balances(settled)).payer).toBe(before.payer);
      } else {
        expect(await refusal(port.refund(leg, { early: true }))).toEqual({ code: "NOT_YET_EXPIRED", permanent: false });
        expect((await port.observe(await harness.settle(leg))).status).toBe("locked");
      }
    });

    it("refunds the payer from the expiry on, once; a claim after it is refused permanently as expired", async () => {
      const { leg, preimage, before } = await locked({ expiresInMs: 2 * MINUTE });
      await harness.advance(3 * MINUTE);
      const late = await harness.settle(leg);
      if (!harness.traits.refusesByReport) expect(await refusal(port.claim(late, preimage))).toEqual({ code: "EXPIRED", permanent: true });
      await port.refund(late, { early: false });
      const refunded = await harness.settle(late);
      await port.refund(refunded, { early: false });
      expect((await port.observe(await harness.settle(refunded))).status).toBe("refunded");
      expect(await harness.balances(refunded)).toEqual(before);
      expect(await refusal(port.claim(refunded, preimage))).toMatchObject({ code: "EXPIRED", permanent: true });
    });

    it("refuses a lock the payer cannot fund, permanently, with nothing locked", async () => {
      const leg = await harness.newLeg({ hashLock: newSecret().hashLock, expiresInMs: 30 * MINUTE, short: true });
      const before = await harness.balances(leg);
      if (harness.traits.refusesByReport) {
        const receipt = await port.lock(leg);
        const observation = await port.observe(await harness.settle({ ...leg, reference: receipt.reference }));
        expect(observation.status).toBe("absent");
        expect(observation.refusal?.reason).toMatch(/^[A-Z0-9]{4}$/);
      } else {
        expect(await refusal(port.lock(leg))).toEqual({ code: "INSUFFICIENT_FUNDS", permanent: true });
        expect((await port.observe(leg)).status).toBe("absent");
      }
      expect(await harness.balances(leg)).toEqual(before);
    });

    it("refuses a lock whose expiry has already passed, permanently, with nothing locked", async () => {
      const leg = await harness.newLeg({ hashLock: newSecret().hashLock, expiresInMs: -MINUTE });
      const before = await harness.balances(leg);
      if (harness.traits.refusesByReport) {
        const receipt = await port.lock(leg);
        const observation = await port.observe(await harness.settle({ ...leg, reference: receipt.reference }));
        expect(observation.status).toBe("absent");
        expect(observation.refusal?.reason).toMatch(/^[A-Z0-9]{4}$/);
      } else {
        expect(await refusal(port.lock(leg))).toEqual({ code: expect.stringMatching(/^(REJECTED|EXPIRED)$/), permanent: true });
      }
      expect(await harness.balances(leg)).toEqual(before);
    });

    it("reports a ledger it cannot reach as unavailable, to be retried, for every call", async () => {
      const down = await harness.unreachable();
      const secret = newSecret();
      const leg = await harness.newLeg({ hashLock: secret.hashLock, expiresInMs: 30 * MINUTE });
      const { leg: lockedLeg, preimage } = await locked();
      expect(await refusal(down.lock(leg))).toEqual({ code: "UNAVAILABLE", permanent: false });
      expect(await refusal(down.claim(lockedLeg, preimage))).toEqual({ code: "UNAVAILABLE", permanent: false });
      if (!harness.traits.refusesByReport) {
        expect(await refusal(down.observe(lockedLeg))).toEqual({ code: "UNAVAILABLE", permanent: false });
      }
      // A ledger with a clock of its own (chain time) cannot tell it while down; the others tell the gateway's.
      const now = await down.now().catch((error: unknown) => error);
      if (!(now instanceof Date)) {
        expect(now).toBeInstanceOf(LegError);
        expect(now).toMatchObject({ code: "UNAVAILABLE", permanent: false });
      }
      // Nothing moved through the broken connection.
      expect((await port.observe(await harness.settle(lockedLeg))).status).toBe("locked");
    });

    it("tells its own clock, which judges the expiries", async () => {
      const before = await port.now();
      await harness.advance(MINUTE);
      const after = await port.now();
      expect(after.getTime() - before.getTime()).toBeGreaterThanOrEqual(MINUTE);
    });
  });
}

/** A leg instruction as the engine hands it over, for a PvP of its own (unique key, UETR and message ids). */
export function legInstruction(terms: LegInstruction["terms"], options: { role?: "initiator" | "responder"; createdAt?: Date } = {}): LegInstruction {
  const id = `pvp${randomBytes(12).toString("hex")}`;
  const uetr = randomUUID();
  const messageId = messageIdOf(id, "instruction");
  const instruction = { messageId, createdAt: isoDateTime(options.createdAt ?? new Date()), instructionId: messageId, endToEndId: id, uetr };
  return {
    key: `${id}:foreign`,
    pvpId: id,
    side: "foreign",
    terms,
    reference: undefined,
    pvp: { id, uetr, role: options.role ?? "initiator", dtLeg: undefined, foreignLeg: terms, instruction, ourAgent: "NBRKKZKX", counterpartyAgent: "FCBKAEAD" },
  };
}
