import type { Queryable } from "../persistence/database.ts";
import { writeEffects } from "./effects.ts";
import type { EngineContext } from "./engine-context.ts";
import {
  carriesPreimage,
  inboundChange,
  InboundRefusal,
  messageTypeOf,
  rolesAddressed,
  messageSummaryOf,
  uetrOf,
  type InboundOutcome,
  type InboundRead,
  type ResponderChecks,
  type ResponderSettings,
} from "./inbound.ts";
import { agentCounterparty } from "./message-counterparty.ts";
import type { PvpRecord } from "./pvp.ts";
import { pvpStore } from "./store.ts";

/**
 * Applies a correspondent's message (already read and checked by inbound.ts) in one transaction: drops
 * replays by BizMsgIdr and UETR, records the message, and writes what it changes on its PvP. A BizMsgIdr
 * reused with other bytes is kept apart and refused.
 */
export async function applyInbound(
  context: EngineContext,
  checks: ResponderChecks,
  read: InboundRead,
  xml: string,
  sender: string,
  responder: ResponderSettings | undefined,
): Promise<InboundOutcome> {
  const { message, businessMessageId } = read;
  const uetr = uetrOf(message);
  const now = context.clock.now();
  const outcome = await context.db.transaction(async (tx) => {
    const pvp = await findPvp(tx, context.ourAgent, read, sender);
    const fresh = await pvpStore.recordMessage(tx, pvp?.id ?? null, {
      businessMessageId,
      direction: "in",
      messageType: messageTypeOf(message),
      counterparty: agentCounterparty(sender),
      at: now,
      summary: messageSummaryOf(message),
      xml,
      carriesPreimage: carriesPreimage(message),
      ...(uetr ? { uetr } : {}),
    });
    if (!fresh) {
      // The same BizMsgIdr is a harmless resend only with the same bytes; other content under it is refused.
      if ((await pvpStore.inboundXml(tx, sender, businessMessageId)) !== xml) return { status: "conflict" as const };
      return { status: "duplicate" as const, pvpId: pvp?.id, businessMessageId };
    }
    const change = inboundChange(checks, message, pvp, sender, responder, now, businessMessageId);
    let pvpId: string;
    switch (change.kind) {
      case "open":
        pvpId = change.pvp.id;
        await openResponderPvp(context, tx, change.pvp, now);
        await pvpStore.attachInbound(tx, pvpId, sender, businessMessageId);
        break;
      case "update":
        pvpId = change.pvpId;
        await pvpStore.update(tx, pvpId, change.patch, now);
        // An agreed cancellation: the refund waiting for the expiry may now go at once, with this consent.
        if (change.patch.peerCancellation !== undefined) await pvpStore.hastenRefunds(tx, pvpId, now);
        break;
      case "none":
        pvpId = change.pvpId;
        break;
    }
    await pvpStore.addTimeline(tx, pvpId, { at: now, kind: "message_in", fromState: null, toState: null, event: messageTypeOf(message), detail: { businessMessageId, from: sender, ...messageSummaryOf(message) } });
    return { status: "accepted" as const, pvpId, businessMessageId };
  });
  if (outcome.status === "conflict") {
    await pvpStore.recordConflict(context.db, { counterparty: sender, businessMessageId, xml, at: now });
    throw new InboundRefusal("BUSINESS_MESSAGE_ID_REUSED", `BizMsgIdr ${businessMessageId} was already used for a different message; it is recorded, not acted on`);
  }
  return outcome;
}

/** The PvP a message is about: UETRs are looked up among the sender's own PvPs only, never another correspondent's. */
async function findPvp(tx: Queryable, ourAgent: string, read: InboundRead, sender: string): Promise<PvpRecord | undefined> {
  const uetr = uetrOf(read.message);
  if (!uetr) return undefined;
  for (const role of rolesAddressed(read.message)) {
    const pvp = await pvpStore.byUetr(tx, ourAgent, role, uetr, true, sender);
    if (pvp) return pvp;
  }
  return undefined;
}

/** A responder's PvP from a pacs.009; one refused by our terms or policy is answered RJCT without locking anything. */
async function openResponderPvp(context: EngineContext, tx: Queryable, pvp: PvpRecord, now: Date): Promise<void> {
  await pvpStore.insert(tx, pvp);
  await pvpStore.addTimeline(tx, pvp.id, { at: now, kind: "transition", fromState: null, toState: pvp.state, event: "instruction_received", detail: {} });
  if (!pvp.foreignLockRefused) await writeEffects(context, tx, pvp, [{ kind: "lock", side: "foreign" }], now);
}
