import { defaultValidationProfile, type ValidationProfile } from "../iso20022/validation/profiles.ts";
import { createHash } from "node:crypto";
import type { Hex } from "viem";
import { amountToDecimal } from "../iso20022/amount.ts";
import type { Queryable } from "../persistence/database.ts";
import type { PvpEngine } from "./engine.ts";
import type { LegTerms } from "./leg-port.ts";
import { readInbound, type InboundPvpMessage } from "./protocol/pvp-messages.ts";
import type { PvpRecord } from "./pvp.ts";
import { answerStatusRequest, isStatusRequest } from "./status-requests.ts";
import { pvpStore } from "./store.ts";
import { PVP_REASON_CODES } from "./reason-codes.ts";
import { mayLock, withinMaxLock } from "./timelock-policy.ts";

/** How this gateway answers pacs.009 instructions as responder: its ledger and what each correspondent may do. */
export interface ResponderSettings {
  /** Ledger name (leg adapter) where this gateway locks the legs it is instructed to lock. */
  ledger: string;
  /** What a correspondent (by BIC) may make us pay, from the directory; undefined refuses its instructions. */
  termsOf(bic: string): CorrespondentTerms | undefined;
}

/**
 * What one correspondent's pacs.009 may make this gateway lock and pay, all from configuration: the
 * message's debtor and creditor are only the correspondent's description of the parties and never choose
 * an account here.
 */
export interface CorrespondentTerms {
  /** Our accounts set aside to pay the legs this correspondent instructs; the first one pays. */
  liquidityAccounts: readonly string[];
  /** The correspondent's own account on our ledger: every leg it instructs is paid to it (the creditor side). */
  settlementAccount: string;
  /** Largest leg one instruction may make us lock, in minor units of the ledger's currency. */
  maxAmount: bigint;
}

/** Why an instruction is answered pacs.002 RJCT without locking anything (ISO 20022 external status reason codes). */
const REFUSAL_REASONS = {
  notAllowed: PVP_REASON_CODES.notAllowed.code,
  amount: PVP_REASON_CODES.amountTooLarge.code,
  currency: PVP_REASON_CODES.notAllowedCurrency.code,
  expiry: PVP_REASON_CODES.invalidDate.code,
  timeout: PVP_REASON_CODES.timeout.code,
} as const;

export type InboundOutcome =
  | { status: "accepted"; pvpId: string | undefined; businessMessageId: string }
  | { status: "duplicate"; pvpId: string | undefined; businessMessageId: string };

export class InboundRefusal extends Error {
  override name = "InboundRefusal";
  readonly code: string;
  readonly statusCode: number;
  readonly findings: Array<{ code: string; path: string; message: string }>;
  constructor(statusCode: number, code: string, message: string, findings: InboundRefusal["findings"] = []) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
    this.findings = findings;
  }
}

const hex0x = (bare: string) => `0x${bare.toLowerCase()}` as Hex;

/**
 * Receives one ISO 20022 message from an authenticated correspondent: validates it (XSD, CBPR+, PvP
 * profile), refuses it when its AppHdr sender is not the caller, drops replays by BizMsgIdr and UETR, and
 * records what it says on the PvP it belongs to, all in one transaction. The engine then acts on it.
 */
export async function receivePvpMessage(
  engine: PvpEngine,
  db: Queryable & { transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> },
  xml: string,
  sender: string,
  responder: ResponderSettings | undefined,
  profile: ValidationProfile = defaultValidationProfile,
): Promise<InboundOutcome> {
  // A status request (pacs.028) is answered, not applied to the PvP: see status-requests.ts.
  if (isStatusRequest(xml)) return answerStatusRequest(engine, db, xml, sender, profile);
  let read: ReturnType<typeof readInbound>;
  try {
    read = readInbound(xml, undefined, profile);
  } catch (error) {
    const findings = (error as { findings?: InboundRefusal["findings"] }).findings ?? [];
    throw new InboundRefusal(400, (error as { code?: string }).code ?? "MESSAGE_INVALID", error instanceof Error ? error.message : "invalid message", findings);
  }
  if (read.from !== sender) throw new InboundRefusal(403, "SENDER_MISMATCH", `AppHdr/Fr ${read.from} is not the authenticated correspondent ${sender}`);
  if (read.to !== engine.ourAgent) throw new InboundRefusal(400, "NOT_FOR_US", `AppHdr/To ${read.to} is not this gateway (${engine.ourAgent})`);
  const now = engine.now();
  const outcome = await db.transaction(async (tx) => {
    const message = read.message;
    const pvp = await findPvp(tx, engine.ourAgent, message, sender);
    const fresh = await pvpStore.recordMessage(tx, pvp?.id ?? null, {
      businessMessageId: read.businessMessageId,
      direction: "in",
      messageType: messageTypeOf(message),
      counterparty: sender,
      at: now,
      summary: summaryOf(message),
      xml,
      ...(uetrOf(message) ? { uetr: uetrOf(message)! } : {}),
    });
    if (!fresh) {
      // The same BizMsgIdr is a harmless resend only with the same bytes; other content under it is refused.
      if ((await pvpStore.inboundXml(tx, sender, read.businessMessageId)) !== xml) return { status: "conflict" as const, businessMessageId: read.businessMessageId };
      return { status: "duplicate" as const, pvpId: pvp?.id, businessMessageId: read.businessMessageId };
    }
    const pvpId = await apply(engine, tx, message, pvp, sender, responder, now, xml, read.businessMessageId);
    if (pvpId !== undefined) {
      await pvpStore.addTimeline(tx, pvpId, { at: now, kind: "message_in", fromState: null, toState: null, event: messageTypeOf(message), detail: { businessMessageId: read.businessMessageId, from: sender, ...summaryOf(message) } });
    }
    return { status: "accepted" as const, pvpId, businessMessageId: read.businessMessageId };
  });
  if (outcome.status === "conflict") {
    await pvpStore.recordConflict(db, { counterparty: sender, businessMessageId: read.businessMessageId, xml, at: now });
    throw new InboundRefusal(409, "BUSINESS_MESSAGE_ID_REUSED", `BizMsgIdr ${read.businessMessageId} was already used for a different message; it is recorded, not acted on`);
  }
  engine.wake();
  return outcome;
}

function uetrOf(message: InboundPvpMessage): string | undefined {
  switch (message.kind) {
    case "instruction":
      return message.instruction.uetr;
    case "status":
      return message.status.original.uetr;
    case "cancellation_request":
      return message.request.original.uetr;
    case "resolution":
      return message.resolution.original.uetr;
  }
}

function messageTypeOf(message: InboundPvpMessage): string {
  return { instruction: "pacs.009.001.08", status: "pacs.002.001.10", cancellation_request: "camt.056.001.08", resolution: "camt.029.001.09" }[message.kind];
}

/** What the timeline shows of a message; never the preimage. */
function summaryOf(message: InboundPvpMessage): Record<string, unknown> {
  switch (message.kind) {
    case "instruction":
      return { amount: amountToDecimal(message.instruction.amount), currency: message.instruction.amount.currency, expiry: message.instruction.expiry };
    case "status":
      return message.status.status === "RJCT" ? { status: "RJCT", reason: message.status.reason } : { status: message.status.status };
    case "cancellation_request":
      return { reason: message.request.reason };
    case "resolution":
      return { outcome: message.resolution.outcome, ...(message.resolution.reason ? { reason: message.resolution.reason } : {}) };
  }
}

/** The PvP a message is about: UETRs are looked up among the sender's own PvPs only, never another correspondent's. */
async function findPvp(tx: Queryable, ourAgent: string, message: InboundPvpMessage, sender: string): Promise<PvpRecord | undefined> {
  const uetr = uetrOf(message);
  if (!uetr) return undefined;
  switch (message.kind) {
    case "instruction":
    case "cancellation_request":
      return pvpStore.byUetr(tx, ourAgent, "responder", uetr, true, sender);
    case "resolution":
      return pvpStore.byUetr(tx, ourAgent, "initiator", uetr, true, sender);
    case "status":
      // ACSC from the initiator is the reveal to the responder; any other status is a report to the initiator.
      return (await pvpStore.byUetr(tx, ourAgent, "initiator", uetr, true, sender)) ?? (await pvpStore.byUetr(tx, ourAgent, "responder", uetr, true, sender));
  }
}

async function apply(
  engine: PvpEngine,
  tx: Queryable,
  message: InboundPvpMessage,
  pvp: PvpRecord | undefined,
  sender: string,
  responder: ResponderSettings | undefined,
  now: Date,
  _xml: string,
  businessMessageId: string,
): Promise<string | undefined> {
  if (message.kind === "instruction") {
    // A second pacs.009 for a UETR already taken is a replay under a new BizMsgIdr: nothing to do.
    if (pvp) return pvp.id;
    if (!responder) throw new InboundRefusal(422, "NOT_A_RESPONDER", "this gateway does not answer PvP instructions");
    const instruction = message.instruction;
    const expiresAt = new Date(instruction.expiry);
    const terms = responder.termsOf(sender);
    const refusal = refusalOf(engine, responder, terms, instruction, now, expiresAt);
    const foreignLeg: LegTerms = {
      ledger: responder.ledger,
      // A refused instruction locks nothing, so it names no account of ours.
      payer: refusal ? "" : terms!.liquidityAccounts[0]!,
      beneficiary: refusal ? "" : terms!.settlementAccount,
      amount: instruction.amount.minorUnits,
      currency: instruction.amount.currency,
      hashLock: hex0x(instruction.hashLock),
      expiresAt,
    };
    // Derived from the initiator's PvP id, so the same instruction always makes the same row id.
    const id = `rsp${createHash("sha256").update(`${sender}:${instruction.uetr}`).digest("hex").slice(0, 24)}`;
    const record: PvpRecord = {
      id,
      pvpRef: instruction.pvpId,
      role: "responder",
      state: "RECEIVED",
      version: 0,
      uetr: instruction.uetr,
      hashLock: foreignLeg.hashLock,
      preimage: undefined,
      sealedPreimage: undefined,
      dtLeg: undefined,
      foreignLeg,
      dtReference: undefined,
      foreignReference: undefined,
      ourAgent: engine.ourAgent,
      counterpartyAgent: sender,
      createdBy: `correspondent:${sender}`,
      peerStatus: undefined,
      peerReason: undefined,
      cancelRequested: false,
      dtLockRefused: false,
      foreignLockRefused: refusal !== undefined,
      dtLockIssued: false,
      foreignLockIssued: false,
      reasonCode: refusal,
      instruction: {
        messageId: instruction.messageId,
        createdAt: instruction.createdAt,
        instructionId: instruction.messageId,
        endToEndId: instruction.endToEndId,
        uetr: instruction.uetr,
      },
      createdAt: now,
      updatedAt: now,
      nextRunAt: now,
    };
    await engine.insertResponder(tx, record, now);
    await tx.query(`UPDATE pvp_message SET pvp_id = $1 WHERE direction = 'in' AND counterparty = $2 AND business_message_id = $3`, [id, sender, businessMessageId]);
    return id;
  }
  if (!pvp) throw new InboundRefusal(404, "UNKNOWN_PVP", "no PvP with this UETR here");
  if (pvp.counterpartyAgent !== sender) throw new InboundRefusal(403, "SENDER_MISMATCH", "the PvP belongs to another correspondent");
  switch (message.kind) {
    case "status": {
      const status = message.status;
      if (pvp.role === "responder") {
        if (status.status !== "ACSC") return pvp.id;
        const preimage = hex0x(status.preimage);
        if (!engineMatches(pvp.hashLock, preimage)) throw new InboundRefusal(400, "PVP_PREIMAGE_MISMATCH", "the preimage does not hash to the leg's hash-lock");
        if (pvp.sealedPreimage === undefined) await pvpStore.update(tx, pvp.id, { preimage: engine.sealPreimage(pvp.id, preimage) }, now);
        return pvp.id;
      }
      if (status.status === "ACSP") {
        // A lock report is believed only for the terms we instructed: our hash-lock, and an expiry no later
        // than ours (a later one could outlive our DT leg). Anything else leaves the PvP to time out and refund.
        const sameLock = status.hashLock.toLowerCase() === pvp.hashLock.slice(2).toLowerCase();
        if (!sameLock || Date.parse(status.expiry) > pvp.foreignLeg.expiresAt.getTime()) {
          throw new InboundRefusal(422, "PEER_TERMS_MISMATCH", "the reported lock does not carry the instructed hash-lock and expiry");
        }
        // Only a first report: an ACSP overtaken on the way by the peer's final report (RJCT, CNCL, ACSC)
        // is stale, and taking it would wait for ever on a lock the peer already released or paid.
        if (pvp.peerStatus === undefined) await pvpStore.update(tx, pvp.id, { peer_status: "locked" }, now);
      }
      if (status.status === "ACSC") {
        if (!engineMatches(pvp.hashLock, hex0x(status.preimage))) throw new InboundRefusal(400, "PVP_PREIMAGE_MISMATCH", "the preimage does not hash to the leg's hash-lock");
        await pvpStore.update(tx, pvp.id, { peer_status: "claimed" }, now);
      }
      if (status.status === "RJCT" && pvp.peerStatus !== "claimed") {
        // After ACSP, a rejection means the peer refunded its lock; before, that it never locked.
        await pvpStore.update(tx, pvp.id, { peer_status: pvp.peerStatus === "locked" ? "refunded" : "rejected", peer_reason: status.reason }, now);
      }
      return pvp.id;
    }
    case "cancellation_request":
      await pvpStore.update(tx, pvp.id, { cancel_requested: true }, now);
      return pvp.id;
    case "resolution":
      if (message.resolution.outcome === "CNCL" && pvp.peerStatus !== "claimed") {
        await pvpStore.update(tx, pvp.id, { peer_status: pvp.peerStatus === "locked" ? "refunded" : "rejected", peer_reason: PVP_REASON_CODES.cancelled.code }, now);
      }
      return pvp.id;
  }
}

/** The ISO reason an instruction is refused for, or undefined when this gateway may lock it. */
function refusalOf(
  engine: PvpEngine,
  responder: ResponderSettings,
  terms: CorrespondentTerms | undefined,
  instruction: { amount: { currency: string; minorUnits: bigint } },
  now: Date,
  expiresAt: Date,
): string | undefined {
  if (!terms || terms.liquidityAccounts.length === 0 || terms.settlementAccount === "") return REFUSAL_REASONS.notAllowed;
  if (!engine.ledgerCarries(responder.ledger, instruction.amount.currency)) return REFUSAL_REASONS.currency;
  if (instruction.amount.minorUnits <= 0n || instruction.amount.minorUnits > terms.maxAmount) return REFUSAL_REASONS.amount;
  if (!withinMaxLock(engine.policy, now, expiresAt)) return REFUSAL_REASONS.expiry;
  if (!mayLock(engine.policy, now, expiresAt)) return REFUSAL_REASONS.timeout;
  return undefined;
}

function engineMatches(hashLock: Hex, preimage: Hex): boolean {
  return (hashLock.toLowerCase() as Hex) === hashOf(preimage);
}

function hashOf(preimage: Hex): Hex {
  return `0x${createHash("sha256").update(Buffer.from(preimage.slice(2), "hex")).digest("hex")}`;
}
