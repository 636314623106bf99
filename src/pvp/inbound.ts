import { createHash } from "node:crypto";
import type { Hex } from "viem";
import { amountToDecimal } from "../iso20022/amount.ts";
import type { Queryable } from "../persistence/database.ts";
import type { PvpEngine } from "./engine.ts";
import type { LegTerms } from "./leg-port.ts";
import { readInbound, type InboundPvpMessage } from "./protocol/pvp-messages.ts";
import type { PvpRecord } from "./pvp.ts";
import { pvpStore } from "./store.ts";
import { PVP_REASON_CODES } from "./reason-codes.ts";
import { mayLock } from "./timelock-policy.ts";

/** How this gateway answers pacs.009 instructions as responder: its ledger and the accounts of each BIC. */
export interface ResponderSettings {
  /** Ledger name (leg adapter) where this gateway locks the legs it is instructed to lock. */
  ledger: string;
  /** The account on that ledger of an institution named by BIC in a pacs.009 (debtor pays, creditor receives). */
  accountOf(bic: string): string | undefined;
}

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
  db: { transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> },
  xml: string,
  sender: string,
  responder: ResponderSettings | undefined,
): Promise<InboundOutcome> {
  let read: ReturnType<typeof readInbound>;
  try {
    read = readInbound(xml);
  } catch (error) {
    const findings = (error as { findings?: InboundRefusal["findings"] }).findings ?? [];
    throw new InboundRefusal(400, (error as { code?: string }).code ?? "MESSAGE_INVALID", error instanceof Error ? error.message : "invalid message", findings);
  }
  if (read.from !== sender) throw new InboundRefusal(403, "SENDER_MISMATCH", `AppHdr/Fr ${read.from} is not the authenticated correspondent ${sender}`);
  if (read.to !== engine.ourAgent) throw new InboundRefusal(400, "NOT_FOR_US", `AppHdr/To ${read.to} is not this gateway (${engine.ourAgent})`);
  const now = engine.now();
  const outcome = await db.transaction(async (tx) => {
    const message = read.message;
    const pvp = await findPvp(tx, engine.ourAgent, message);
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
    if (!fresh) return { status: "duplicate" as const, pvpId: pvp?.id, businessMessageId: read.businessMessageId };
    const pvpId = await apply(engine, tx, message, pvp, sender, responder, now, xml, read.businessMessageId);
    if (pvpId !== undefined) {
      await pvpStore.addTimeline(tx, pvpId, { at: now, kind: "message_in", fromState: null, toState: null, event: messageTypeOf(message), detail: { businessMessageId: read.businessMessageId, from: sender, ...summaryOf(message) } });
    }
    return { status: "accepted" as const, pvpId, businessMessageId: read.businessMessageId };
  });
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

async function findPvp(tx: Queryable, ourAgent: string, message: InboundPvpMessage): Promise<PvpRecord | undefined> {
  const uetr = uetrOf(message);
  if (!uetr) return undefined;
  switch (message.kind) {
    case "instruction":
    case "cancellation_request":
      return pvpStore.byUetr(tx, ourAgent, "responder", uetr, true);
    case "resolution":
      return pvpStore.byUetr(tx, ourAgent, "initiator", uetr, true);
    case "status":
      // ACSC from the initiator is the reveal to the responder; any other status is a report to the initiator.
      return (await pvpStore.byUetr(tx, ourAgent, "initiator", uetr, true)) ?? (await pvpStore.byUetr(tx, ourAgent, "responder", uetr, true));
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
    const payer = responder.accountOf(instruction.debtor);
    const beneficiary = responder.accountOf(instruction.creditor);
    if (!payer || !beneficiary) throw new InboundRefusal(422, "UNKNOWN_PARTY", `no account here for ${payer ? instruction.creditor : instruction.debtor}`);
    const expiresAt = new Date(instruction.expiry);
    const foreignLeg: LegTerms = {
      ledger: responder.ledger,
      payer,
      beneficiary,
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
      foreignLockRefused: !mayLock(engine.policy, now, expiresAt),
      dtLockIssued: false,
      foreignLockIssued: false,
      reasonCode: undefined,
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
        if (pvp.preimage === undefined) await pvpStore.update(tx, pvp.id, { preimage }, now);
        return pvp.id;
      }
      if (status.status === "ACSP") await pvpStore.update(tx, pvp.id, { peer_status: "locked" }, now);
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

function engineMatches(hashLock: Hex, preimage: Hex): boolean {
  return (hashLock.toLowerCase() as Hex) === hashOf(preimage);
}

function hashOf(preimage: Hex): Hex {
  return `0x${createHash("sha256").update(Buffer.from(preimage.slice(2), "hex")).digest("hex")}`;
}
