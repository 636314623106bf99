import type { Hex } from "viem";
import { systemClock, type Clock } from "../../core/clock.ts";
import { hashLockOf } from "../../core/hash-lock.ts";
import { peerLedgerName } from "../../core/ledger-name.ts";
import { bareHex, pvpEnvelope, type MessageParties } from "../../iso20022/pvp/envelope.ts";
import { LegError, type HashLockedLegPort, type LegInstruction, type LegLockReceipt, type LegObservation, type PeerMessage, type PeerTransport } from "../leg-port.ts";
import { PVP_REASON_CODES } from "../reason-codes.ts";
import type { StatusRequestWatch } from "../status-requests.ts";

export interface PeerGatewayLegOptions {
  /** The correspondent central bank's BIC; the leg's ledger name is `peer:<BIC>`. */
  agent: string;
  /** Our BIC. */
  ourAgent: string;
  transport: PeerTransport;
  /** The gateway's clock: a peer's ledger clock is not visible, so expiries get the drift margin. */
  clock?: Clock;
  /** Records each message sent, by local PvP id, in the PvP's log (`recordSentMessages` in message-log.ts). */
  onSent?: (pvpId: string, message: SentMessage) => Promise<void>;
  /** Chases a silent peer with a status request (pacs.028); see status-requests.ts. */
  statusRequests?: StatusRequestWatch;
}

/** A message a peer leg sent; one that holds the preimage (the reveal) is shown only once the PvP settles. */
export type SentMessage = PeerMessage & { carriesPreimage: boolean };

/**
 * A PvP leg held on another central bank's ledger, reached through its gateway with the ISO 20022 PvP
 * profile: lock = pacs.009 instruction, claim = the reveal (pacs.002 ACSC carrying the preimage), early
 * refund = camt.056. What the peer reports (ACSP, ACSC, RJCT, camt.029) arrives as inbound messages and
 * is handed back here as `leg.reported`. Messages have fixed BizMsgIdrs, so resending one is harmless.
 */
export function peerGatewayLeg(options: PeerGatewayLegOptions): HashLockedLegPort {
  const clock = options.clock ?? systemClock;
  const parties = (leg: LegInstruction, createdAt: Date): MessageParties => ({ pvpRef: leg.pvp.id, from: options.ourAgent, to: options.agent, createdAt });
  const send = async (leg: LegInstruction, message: PeerMessage, carriesPreimage = false) => {
    await options.transport.send(options.agent, message);
    await options.onSent?.(leg.pvpId, { ...message, carriesPreimage });
  };
  return {
    ledger: peerLedgerName(options.agent),
    async lock(leg): Promise<LegLockReceipt> {
      const instruction = leg.pvp.instruction;
      if (instruction === undefined) throw new LegError("REJECTED", "the PvP has no instruction reference", { permanent: true });
      // Same creation time as recorded at PvP creation: a resent pacs.009 is byte-for-byte the same message.
      const message = pvpEnvelope({
        kind: "instruction",
        parties: parties(leg, new Date(instruction.createdAt)),
        uetr: leg.pvp.uetr,
        amount: { currency: leg.terms.currency, minorUnits: leg.terms.amount },
        hashLock: bareHex(leg.terms.hashLock),
        expiry: leg.terms.expiresAt,
        debtor: leg.terms.payer,
        creditor: leg.terms.beneficiary,
      });
      await send(leg, message);
      return { reference: leg.pvp.uetr };
    },
    async claim(leg, preimage) {
      if (leg.reported?.status === "claimed") return;
      // The reveal is the secret itself: never sent when it cannot open the peer's lock, nor once that lock is
      // gone or past its expiry, when the peer would learn it without paying.
      if (!opens(leg.terms.hashLock, preimage)) throw new LegError("WRONG_PREIMAGE", "the preimage does not open the leg's hash-lock", { permanent: true });
      const reported = leg.reported?.status;
      if (reported === "refunded" || reported === "rejected") throw new LegError("EXPIRED", `the correspondent reported the leg ${reported}`, { permanent: true });
      if (clock.now().getTime() >= leg.terms.expiresAt.getTime()) throw new LegError("EXPIRED", "the leg's expiry has passed", { permanent: true });
      const instruction = leg.pvp.instruction!;
      await send(leg, pvpEnvelope({ kind: "reveal", parties: parties(leg, leg.issuedAt ?? clock.now()), original: instruction, preimage: bareHex(preimage) }), true);
    },
    async refund(leg, { early, reason }) {
      const reported = leg.reported?.status;
      if (reported === "refunded" || reported === "rejected" || reported === "claimed") return;
      if (early) {
        const instruction = leg.pvp.instruction!;
        const amount = { currency: leg.terms.currency, minorUnits: leg.terms.amount };
        await send(leg, pvpEnvelope({ kind: "cancellationRequest", parties: parties(leg, leg.issuedAt ?? clock.now()), original: instruction, amount, reason: reason ?? PVP_REASON_CODES.cancelled.code }));
      }
      // The peer refunds on its own at expiry; until it says so (camt.029, RJCT) or the expiry passes, wait.
      if (clock.now().getTime() < leg.terms.expiresAt.getTime()) throw new LegError("NOT_YET_EXPIRED", "waiting for the correspondent to confirm the refund");
    },
    async observe(leg): Promise<LegObservation> {
      // Best effort: a peer that cannot be reached now is chased again at the next look.
      await options.statusRequests?.chase(leg, (message) => send(leg, message)).catch(() => undefined);
      switch (leg.reported?.status) {
        case "locked":
          return { status: "locked", reportedByPeer: true };
        case "claimed":
          return { status: "claimed", reportedByPeer: true };
        case "refunded":
          return { status: "refunded", reportedByPeer: true };
        case "rejected":
          return { status: "absent", refusal: { reason: leg.reported.reason ?? PVP_REASON_CODES.narrative.code }, reportedByPeer: true };
        default:
          return { status: "absent", reportedByPeer: true };
      }
    },
    async now() {
      return clock.now();
    },
  };
}

function opens(hashLock: Hex, preimage: Hex): boolean {
  try {
    return hashLockOf(preimage) === hashLock.toLowerCase();
  } catch {
    return false;
  }
}
