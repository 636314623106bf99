import { systemClock, type Clock } from "../../core/clock.ts";
import { DT_REFUSAL_IS_PERMANENT, DtLedgerError, type DtLedgerPort, type Hold } from "../../ledger/dt-ledger-port.ts";
import { LegError, type HashLockedLegPort, type LegInstruction, type LegLockReceipt, type LegObservation } from "../leg-port.ts";

export interface DtLedgerLegOptions {
  port: DtLedgerPort;
  /** Ledger name in PvP legs (default `dt`). */
  ledger?: string;
  /** The DT ledger's clock as the gateway knows it (the port has none); defaults to the gateway's clock. */
  clock?: Clock;
  /**
   * The currency the ledger's amounts are in, 2 decimals (default KZT, tiyn). Another central bank running
   * this gateway on a DT-platform ledger of its own sets its currency (setting PVP_HOME_CURRENCY).
   */
  currency?: string;
}

/** The DT refusal as a leg error: the code in the leg port's words, permanence from the port's one table. */
function legError(error: unknown): unknown {
  if (!(error instanceof DtLedgerError)) return error;
  const permanent = { permanent: DT_REFUSAL_IS_PERMANENT[error.code] };
  switch (error.code) {
    case "INSUFFICIENT_FUNDS":
    case "NOT_YET_EXPIRED":
    case "WRONG_PREIMAGE":
    case "UNKNOWN_ACCOUNT":
    case "ACCOUNT_CLOSED":
      return new LegError(error.code, error.message, permanent);
    case "HOLD_EXPIRED":
    case "ALREADY_REFUNDED":
      return new LegError("EXPIRED", error.message, permanent);
    default:
      return new LegError(permanent.permanent ? "REJECTED" : "UNAVAILABLE", `${error.code}: ${error.message}`, permanent);
  }
}

/**
 * A PvP leg on the DT ledger: a hold with a SHA-256 hash-lock for the beneficiary until the expiry.
 * Idempotency keys derive from the leg key, so a retried hold, release or refund applies once.
 */
export function dtLedgerLeg(options: DtLedgerLegOptions): HashLockedLegPort {
  const { port } = options;
  const clock = options.clock ?? systemClock;
  // The leg's reference is the hold id: release and refund name it directly, with no read before them
  // (the ledger refuses an unknown hold itself).
  const holdIdOf = (leg: LegInstruction): string => {
    if (leg.reference === undefined) throw new LegError("UNAVAILABLE", "the hold id is not known yet");
    return leg.reference;
  };
  return {
    ledger: options.ledger ?? "dt",
    // Tenge in tiyn: the DT ledger carries nothing else.
    assets: [{ currency: options.currency ?? "KZT", decimals: 2 }],
    async lock(leg): Promise<LegLockReceipt> {
      try {
        const hold = await port.hold({
          idempotencyKey: `${leg.key}:hold`,
          from: leg.terms.payer,
          beneficiary: leg.terms.beneficiary,
          amount: leg.terms.amount,
          condition: { hashLock: leg.terms.hashLock },
          expiresAt: leg.terms.expiresAt,
          reference: `PVP ${leg.pvp.id}`,
        });
        return { reference: hold.id };
      } catch (error) {
        throw legError(error);
      }
    },
    async claim(leg, preimage) {
      try {
        await port.release({ idempotencyKey: `${leg.key}:release`, holdId: holdIdOf(leg), preimage });
      } catch (error) {
        if (error instanceof DtLedgerError && error.code === "ALREADY_RELEASED") return;
        throw legError(error);
      }
    },
    async refund(leg, options) {
      // Before the expiry only on the beneficiary's side's consent (an agreed cancellation); the ledger
      // refuses it otherwise (NOT_YET_EXPIRED), and the engine retries at the expiry.
      const consent = options?.early && options.consent ? { earlyConsent: { by: options.consent.by, message: options.consent.message } } : {};
      try {
        await port.refund({ idempotencyKey: `${leg.key}:refund`, holdId: holdIdOf(leg), ...consent });
      } catch (error) {
        // Refunded already, or released with the preimage: either way there is nothing left to refund.
        if (error instanceof DtLedgerError && (error.code === "ALREADY_REFUNDED" || error.code === "ALREADY_RELEASED")) return;
        throw legError(error);
      }
    },
    async observe(leg): Promise<LegObservation> {
      if (leg.reference === undefined) return { status: "absent" };
      let hold: Hold;
      try {
        hold = await port.getHold(leg.reference);
      } catch (error) {
        if (error instanceof DtLedgerError && error.code === "UNKNOWN_HOLD") return { status: "absent" };
        throw legError(error);
      }
      const status = hold.status === "held" ? "locked" : hold.status === "released" ? "claimed" : "refunded";
      const observation: LegObservation = { status };
      if (hold.preimage) observation.preimage = hold.preimage;
      const hashLock = "hashLock" in hold.condition ? hold.condition.hashLock.toLowerCase() : undefined;
      if (hold.amount !== leg.terms.amount || hashLock !== leg.terms.hashLock.toLowerCase() || hold.beneficiary !== leg.terms.beneficiary) {
        observation.termsMismatch = true;
      }
      return observation;
    },
    async now() {
      return clock.now();
    },
  };
}
