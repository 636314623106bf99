import { ledgerKindOf } from "../core/ledger-name.ts";
import type { Queryable } from "../persistence/database.ts";
import type { EngineContext } from "./engine-context.ts";
import { bareHex, pvpEnvelope, type MessageParties, type PvpOutbound } from "../iso20022/pvp/envelope.ts";
import { agentCounterparty, counterpartyName, type MessageCounterparty } from "./message-counterparty.ts";
import type { PvpRecord } from "./pvp.ts";
import { PVP_REASON_CODES } from "./reason-codes.ts";
import type { BankNoticeKind, Effect, PeerMessageKind } from "./state-machine.ts";
import { pvpStore } from "./store.ts";

/** A message a transition sends or records, with the id, type and summary its log entry shows. */
interface OutboundMessage {
  id: string;
  type: string;
  summary: Record<string, unknown>;
  xml: string;
  /** Holds the preimage (ACSC): the API shows it only once the PvP is settled. */
  carriesPreimage: boolean;
}

/**
 * Writes a transition's effects in its transaction: ledger commands and messages to the outbox, messages
 * to the PvP's log. Commands are keyed by the PvP's version: one command per transition, however often
 * the transition's transaction is retried. Ledger-side idempotency keys come from the leg key, not from these.
 */
export async function writeEffects(context: EngineContext, tx: Queryable, pvp: PvpRecord, effects: readonly Effect[], now: Date): Promise<void> {
  for (const effect of effects) {
    switch (effect.kind) {
      case "lock":
      case "claim":
        await pvpStore.enqueue(tx, pvp.id, { command: effect.kind, side: effect.side }, `${pvp.id}:${pvp.version}:${effect.side}:${effect.kind}`, now);
        break;
      case "refund":
        await pvpStore.enqueue(tx, pvp.id, { command: "refund", side: effect.side, early: effect.early }, `${pvp.id}:${pvp.version}:${effect.side}:refund`, now);
        break;
      case "cancel_commands":
        await pvpStore.cancelCommands(tx, pvp.id, effect.command, now);
        break;
      case "peer_message":
        for (const message of peerMessages(context, pvp, effect.message, now)) {
          const delivery = { to: pvp.counterpartyAgent, xml: message.xml, businessMessageId: message.id, messageType: message.type };
          await pvpStore.enqueue(tx, pvp.id, { command: "send", message: delivery }, `${pvp.id}:send:${message.id}`, now);
          await recordOutbound(tx, pvp, message, agentCounterparty(pvp.counterpartyAgent), now);
        }
        break;
      case "bank_notice":
        for (const message of bankNotices(context, pvp, effect.notice, now)) await recordOutbound(tx, pvp, message, message.to, now);
        break;
    }
  }
}

async function recordOutbound(tx: Queryable, pvp: PvpRecord, message: OutboundMessage, to: MessageCounterparty, now: Date): Promise<void> {
  await pvpStore.recordMessage(tx, pvp.id, {
    businessMessageId: message.id,
    direction: "out",
    messageType: message.type,
    counterparty: to,
    at: now,
    summary: message.summary,
    xml: message.xml,
    carriesPreimage: message.carriesPreimage,
    uetr: pvp.uetr,
  });
  await pvpStore.addTimeline(tx, pvp.id, { at: now, kind: "message_out", fromState: null, toState: null, event: message.type, detail: { businessMessageId: message.id, to: counterpartyName(to), ...message.summary } });
}

function parties(context: EngineContext, pvp: PvpRecord, now: Date, to: string): MessageParties {
  return { pvpRef: pvp.pvpRef, from: context.ourAgent, to, createdAt: now };
}

/** A message as the outbox and the log keep it: the envelope, what its log entry shows, whether it holds the secret. */
function outbound(message: PvpOutbound, summary: Record<string, unknown>, carriesPreimage = false): OutboundMessage {
  const envelope = pvpEnvelope(message);
  return { id: envelope.businessMessageId, type: envelope.messageType, summary, xml: envelope.xml, carriesPreimage };
}

/** What the responder tells the initiator's gateway. */
function peerMessages(context: EngineContext, pvp: PvpRecord, kind: PeerMessageKind, now: Date): OutboundMessage[] {
  const original = pvp.instruction!;
  const to = parties(context, pvp, now, pvp.counterpartyAgent);
  const resolution = (outcome: "CNCL" | "RJCR"): OutboundMessage => {
    if (outcome === "CNCL") return outbound({ kind: "cancelled", parties: to, original }, { outcome });
    const reason = PVP_REASON_CODES.alreadySettling.code;
    return outbound({ kind: "cancellationRefused", parties: to, original, reason }, { outcome, reason });
  };
  switch (kind) {
    case "locked":
      return [outbound({ kind: "locked", parties: to, original, hashLock: bareHex(pvp.hashLock), expiry: pvp.foreignLeg.expiresAt }, { status: "ACSP" })];
    case "settled":
      return [outbound({ kind: "settled", parties: to, original, preimage: bareHex(pvp.preimage!) }, { status: "ACSC" }, true)];
    case "rejected": {
      const reason = pvp.reasonCode ?? PVP_REASON_CODES.timeout.code;
      const rejection = outbound({ kind: "rejected", parties: to, original, reason }, { status: "RJCT", reason });
      return pvp.cancelRequested ? [resolution("CNCL"), rejection] : [rejection];
    }
    case "cancellation_accepted":
      return [resolution("CNCL")];
    case "cancellation_refused":
      // The funds already moved on (the leg is settled or being settled with the revealed preimage).
      return [resolution("RJCR")];
  }
}

/** What the PvP's own banks are told: camt.054 debit and credit on settlement, pacs.002 RJCT otherwise. */
function bankNotices(context: EngineContext, pvp: PvpRecord, kind: BankNoticeKind, now: Date): Array<OutboundMessage & { to: MessageCounterparty }> {
  if (pvp.kind !== "pvp") {
    if (!context.notices) throw new Error(`no notices configured for exchanges of kind ${pvp.kind}`);
    return context.notices(pvp, kind, now, context.ourAgent);
  }
  if (kind === "accepted" || kind === "affirmed") return [];
  const original = pvp.instruction!;
  const ourLeg = pvp.role === "initiator" ? pvp.dtLeg! : pvp.foreignLeg;
  // The payer's bank hears of its debit or of the rejection: the bank that created the PvP (its
  // institution's BIC); without one (an operator's PvP, a responder's), this gateway itself.
  const payerBank = pvp.bankAgent ?? context.ourAgent;
  const bank: MessageCounterparty = pvp.bankAgent ? agentCounterparty(pvp.bankAgent) : { kind: "bank", principal: pvp.createdBy };
  // Named by our local PvP id: unique among all our PvPs, whichever `/PVP/` id a peer chose.
  const notice = (to: string): MessageParties => ({ ...parties(context, pvp, now, to), messageRef: pvp.id });
  const ours = notice(context.ourAgent);
  const amount = { currency: ourLeg.currency, minorUnits: ourLeg.amount };
  // camt.054 notifies the digital accounts of the DT ledger; an EVM address (42 characters) is no ISO
  // account id (Max34Text) and has no servicing bank, so a leg settled on an EVM ledger has nobody to notify.
  if (kind === "settled" && ledgerKindOf(ourLeg.ledger).kind !== "dt") return [];
  if (kind === "settled") {
    return [
      { ...outbound({ kind: "debitNotice", parties: notice(payerBank), original, account: ourLeg.payer, amount }, { account: ourLeg.payer, creditDebit: "DBIT" }), to: bank },
      { ...outbound({ kind: "creditNotice", parties: ours, original, account: ourLeg.beneficiary, amount }, { account: ourLeg.beneficiary, creditDebit: "CRDT" }), to: { kind: "beneficiary", account: ourLeg.beneficiary } },
    ];
  }
  const reason = pvp.reasonCode ?? PVP_REASON_CODES.timeout.code;
  return [{ ...outbound({ kind: "bankRejection", parties: notice(payerBank), original, reason }, { status: "RJCT", reason }), to: bank }];
}
