import { systemClock, type Clock } from "../core/clock.ts";
import type { Queryable } from "../persistence/database.ts";
import { isoDateTime, maxStatusRequests, pvpEnvelope, statusRequestIdOf } from "../iso20022/pvp/envelope.ts";
import type { PvpStatusRequest } from "../iso20022/pvp/messages.ts";
import type { EngineContext } from "./engine-context.ts";
import { InboundRefusal, type InboundOutcome } from "./inbound.ts";
import type { LegInstruction, PeerMessage } from "./leg-port.ts";
import { agentCounterparty, isAgent } from "./message-counterparty.ts";
import type { PvpRecord } from "./pvp.ts";
import { pvpStore } from "./store.ts";

/**
 * Recovery by status request (docs/iso20022-pvp-profile.md, "Recovery"). A gateway that spoke last to its
 * peer about a PvP and has heard nothing back for `PVP_STATUS_REQUEST_AFTER_SECONDS` sends what it said
 * last again (same BizMsgIdr: the peer drops it if it already has it) and asks with a pacs.028; the peer
 * answers with the pacs.002 it last sent about that PvP. A lost message in either direction is recovered
 * this way, without the peer acting twice on anything.
 */

export const statusRequestType = "pacs.028.001.03";

/** Default silence before asking: long enough for a peer that is simply slow, short beside the expiries. */
export const defaultStatusRequestAfterSeconds = 30;

type Send = (message: PeerMessage) => Promise<void>;

/** What a peer leg asks when it looks at a leg: whether to chase the peer, and how. */
export interface StatusRequestWatch {
  chase(leg: LegInstruction, send: Send): Promise<void>;
}

/** The PvP a chase is about: its local id, its `/PVP/` id, its UETR and the pacs.009 that opened it. */
interface ChaseTarget {
  pvpId: string;
  pvpRef: string;
  uetr: string;
  instruction: LegInstruction["pvp"]["instruction"];
}

/**
 * One chase: when the last message exchanged with the peer about the PvP is ours and older than `afterMs`,
 * sends it again and a numbered pacs.028. Returns when to look again (the end of the current silence).
 */
async function chase(db: Queryable, options: { afterMs: number; ourAgent: string; peer: string; clock: Clock }, target: ChaseTarget, send: Send): Promise<Date | undefined> {
  if (target.instruction === undefined) return undefined;
  // Only the exchange with this peer: a notification to a bank is neither silence nor ours to resend.
  const log = (await pvpStore.messages(db, target.pvpId)).filter((message) => isAgent(message.counterparty, options.peer));
  const last = log.at(-1);
  const now = options.clock.now();
  if (last === undefined || last.direction === "in") return undefined;
  if (now.getTime() - last.at.getTime() < options.afterMs) return new Date(last.at.getTime() + options.afterMs);
  const lastSaid = log.findLast((message) => message.direction === "out" && message.messageType !== statusRequestType);
  if (lastSaid) await send({ xml: lastSaid.xml, businessMessageId: lastSaid.businessMessageId, messageType: lastSaid.messageType });
  // Requests are numbered per PvP and recorded before they go out: a request whose send failed is never
  // sent again under its id with other bytes, and two processes chasing at once send it once.
  const sequence = log.filter((message) => message.direction === "out" && message.messageType === statusRequestType).length + 1;
  if (sequence > maxStatusRequests) return undefined;
  const businessMessageId = statusRequestIdOf(target.pvpRef, sequence);
  const { xml } = pvpEnvelope({ kind: "statusRequest", parties: { pvpRef: target.pvpRef, from: options.ourAgent, to: options.peer, createdAt: now }, businessMessageId, original: target.instruction });
  const recorded = await pvpStore.recordMessage(db, target.pvpId, {
    businessMessageId,
    direction: "out",
    messageType: statusRequestType,
    counterparty: agentCounterparty(options.peer),
    at: now,
    summary: {},
    xml,
    carriesPreimage: false,
    uetr: target.uetr,
  });
  if (recorded) await send({ xml, businessMessageId, messageType: statusRequestType });
  return new Date(now.getTime() + options.afterMs);
}

/**
 * The requester's side, for peer legs (the initiator): reads the PvP's message log (what
 * `recordSentMessages` and the inbound path keep) and chases the peer when the last message is ours and
 * older than `afterMs`, until the peer reports its leg settled, refunded or rejected.
 */
export function statusRequestWatch(db: Queryable, options: { afterMs: number; ourAgent: string; peer: string; clock?: Clock }): StatusRequestWatch {
  const clock = options.clock ?? systemClock;
  return {
    async chase(leg, send) {
      const reported = leg.reported?.status;
      if (reported === "claimed" || reported === "refunded" || reported === "rejected") return;
      await chase(db, { ...options, clock }, { pvpId: leg.pvpId, pvpRef: leg.pvp.id, uetr: leg.pvp.uetr, instruction: leg.pvp.instruction }, send);
    },
  };
}

/**
 * The responder's side, from the worker: a responder PvP that is not final and whose last word to the
 * initiator is ours (its ACSP, waiting for the reveal) is chased exactly as the initiator chases: its last
 * report again, and a pacs.028, which the initiator answers with its reveal if it sent one. Best effort
 * (a peer that cannot be reached is chased again at the next look); returns when to look again.
 */
export async function chaseAsResponder(context: EngineContext, pvp: PvpRecord): Promise<Date | undefined> {
  const { transport, statusRequestAfterMs } = context;
  if (pvp.role !== "responder" || transport === undefined || statusRequestAfterMs === undefined) return undefined;
  const peer = pvp.counterpartyAgent;
  try {
    return await chase(
      context.db,
      { afterMs: statusRequestAfterMs, ourAgent: context.ourAgent, peer, clock: context.clock },
      { pvpId: pvp.id, pvpRef: pvp.pvpRef, uetr: pvp.uetr, instruction: pvp.instruction },
      (message) => transport.send(peer, message),
    );
  } catch (error) {
    context.log.warn({ event: "pvp.status_request_failed", pvpId: pvp.id, err: error instanceof Error ? error.message : String(error) }, "chasing the initiator failed; tried again at the next look");
    return new Date(context.clock.now().getTime() + statusRequestAfterMs);
  }
}

/** The shortest time between two answers (resends) to one correspondent's status requests about one PvP. */
export const statusAnswerIntervalMs = 5_000;

/**
 * The answering side, for a pacs.028 read and checked like any inbound message (readInboundMessage: who
 * sent it, to whom): queues again the last pacs.002 this gateway sent about that PvP (it goes out through
 * the outbox, retried like any message). A PvP it never heard of, or one it has not reported on yet, gets no answer: the asker resends
 * its own last message beside the request, which is what is missing then.
 */
export async function answerStatusRequest(context: EngineContext, request: PvpStatusRequest, xml: string, sender: string): Promise<InboundOutcome> {
  const { ourAgent } = context;
  const now = context.clock.now();
  const outcome = await context.db.transaction(async (tx) => {
    // Only the PvP this correspondent is party to; about any other nothing is written or answered, and
    // the reply is the same, so a request tells nothing about which UETRs exist.
    const pvp = (await pvpStore.byUetr(tx, ourAgent, "responder", request.original.uetr)) ?? (await pvpStore.byUetr(tx, ourAgent, "initiator", request.original.uetr));
    if (pvp === undefined || pvp.counterpartyAgent !== sender) return { status: "accepted", pvpId: undefined, businessMessageId: request.messageId } as const;
    // Like any message: the same BizMsgIdr with the same bytes is a duplicate, with other bytes refused.
    const earlier = await pvpStore.inboundXml(tx, sender, request.messageId);
    if (earlier !== undefined) {
      if (earlier === xml) return { status: "duplicate", pvpId: pvp.id, businessMessageId: request.messageId } as const;
      return { status: "conflict" } as const;
    }
    const log = await pvpStore.messages(tx, pvp.id);
    // Each answer is a resend: a correspondent asking under ever new ids gets one per interval, no more.
    const lastAsked = log.findLast((message) => message.direction === "in" && message.messageType === statusRequestType && isAgent(message.counterparty, sender));
    if (lastAsked !== undefined && now.getTime() - lastAsked.at.getTime() < statusAnswerIntervalMs) return { status: "too_soon" } as const;
    await pvpStore.recordMessage(tx, pvp.id, {
      businessMessageId: request.messageId,
      direction: "in",
      messageType: statusRequestType,
      counterparty: agentCounterparty(sender),
      at: now,
      summary: {},
      xml,
      carriesPreimage: false,
      uetr: request.original.uetr,
    });
    const lastStatus = log.findLast((message) => message.direction === "out" && message.messageType === "pacs.002.001.10" && isAgent(message.counterparty, sender));
    if (lastStatus !== undefined) {
      const answer = { to: sender, xml: lastStatus.xml, businessMessageId: lastStatus.businessMessageId, messageType: lastStatus.messageType };
      await pvpStore.enqueue(tx, pvp.id, { command: "send", message: answer }, `${pvp.id}:status-answer:${request.messageId}`, now);
      // A final PvP is no longer polled: wake it for the answer.
      await pvpStore.update(tx, pvp.id, { active: true }, now);
    }
    await pvpStore.addTimeline(tx, pvp.id, { at: now, kind: "message_in", fromState: null, toState: null, event: statusRequestType, detail: { businessMessageId: request.messageId, from: sender, answered: lastStatus?.businessMessageId ?? null, at: isoDateTime(now) } });
    return { status: "accepted", pvpId: pvp.id, businessMessageId: request.messageId } as const;
  });
  if (outcome.status === "conflict") {
    await pvpStore.recordConflict(context.db, { counterparty: sender, businessMessageId: request.messageId, xml, at: now });
    throw new InboundRefusal("BUSINESS_MESSAGE_ID_REUSED", `BizMsgIdr ${request.messageId} was already used for a different message; it is recorded, not acted on`);
  }
  if (outcome.status === "too_soon") {
    throw new InboundRefusal("STATUS_REQUEST_TOO_SOON", `a status request about this PvP was answered less than ${statusAnswerIntervalMs / 1000} s ago; ask again later`);
  }
  return outcome;
}
