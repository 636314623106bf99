import { systemClock, type Clock } from "../core/clock.ts";
import type { Database } from "../persistence/database.ts";
import type { PeerGatewayLegOptions } from "./legs/peer-gateway-leg.ts";
import { agentCounterparty } from "./message-counterparty.ts";
import { pvpStore } from "./store.ts";

/**
 * An `onSent` for a peer leg: keeps every message the leg sends to `agent` in the PvP's message log and
 * timeline, through the PvP's store (the leg itself writes nothing). A resend is recorded once.
 */
export function recordSentMessages(db: Database, agent: string, clock: Clock = systemClock): NonNullable<PeerGatewayLegOptions["onSent"]> {
  return async (pvpId, message) => {
    const at = clock.now();
    await db.transaction(async (tx) => {
      const fresh = await pvpStore.recordMessage(tx, pvpId, { ...message, direction: "out", counterparty: agentCounterparty(agent), at, summary: {} });
      if (fresh) {
        await pvpStore.addTimeline(tx, pvpId, { at, kind: "message_out", fromState: null, toState: null, event: message.messageType, detail: { businessMessageId: message.businessMessageId, to: agent } });
      }
    });
  };
}
