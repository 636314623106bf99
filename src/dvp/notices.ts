import { KZT } from "../core/money.ts";
import { buildSettlementConfirmation, buildSettlementStatus, type DvpSettlementParty, type DvpSettlementStatus } from "../iso20022/dvp/messages.ts";
import type { OutboundNotice } from "../pvp/engine.ts";
import { agentCounterparty } from "../pvp/message-counterparty.ts";
import { bareHex, isoDateTime, notificationMessage, renderValidated } from "../pvp/protocol/pvp-messages.ts";
import type { PvpRecord } from "../pvp/pvp.ts";
import type { BankNoticeKind } from "../pvp/state-machine.ts";
import { dvpTermsOf, type DvpSide, type DvpTerms } from "./dvp.ts";
import { dvpRejectionOf } from "./reason-codes.ts";

/** The last two characters of each DvP message id (`<dvpId>-<code>`, at most 30 characters). */
const CODES = {
  accepted: { seller: "AS", buyer: "AB" },
  rejected: { seller: "RS", buyer: "RB" },
  settled: { seller: "CS", buyer: "CB" },
} as const;

const party = (terms: DvpTerms, side: DvpSide): DvpSettlementParty => ({ bic: terms[side].bic, holdingAddress: terms[side].holding });

/**
 * The messages a DvP's transitions record for its brokers (docs/dvp.md "Messages"): sese.024 accepted to
 * each broker as its instruction is taken (creation, affirmation), sese.025 to both and camt.054 debit and
 * credit for the cash when both legs settled, sese.024 rejected with the reason when it was refused or
 * unwound. Each is rendered and checked against its XSD before it is recorded.
 */
export function dvpNotices(pvp: PvpRecord, notice: BankNoticeKind, now: Date, ourAgent: string): OutboundNotice[] {
  const terms = dvpTermsOf(pvp);
  const reference = { dvpId: pvp.id, hashLock: bareHex(pvp.hashLock), expiresAt: isoDateTime(pvp.foreignLeg.expiresAt) };
  const envelope = (side: DvpSide, code: string) => ({ messageId: `${pvp.id}-${code}`, createdAt: isoDateTime(now), from: ourAgent, to: terms[side].bic });
  const status = (side: DvpSide, code: string, advice: DvpSettlementStatus): OutboundNotice => ({
    id: `${pvp.id}-${code}`,
    type: "sese.024.001.12",
    to: agentCounterparty(terms[side].bic),
    summary: { side, status: advice.status, ...("reason" in advice && advice.reason ? { reason: advice.reason } : {}) },
    xml: renderValidated(buildSettlementStatus({ envelope: envelope(side, code), transactionId: terms[side].transactionId, reference, advice })),
    carriesPreimage: false,
  });
  const sides: DvpSide[] = ["seller", "buyer"];
  switch (notice) {
    case "accepted": {
      // The instructing broker's instruction is taken at creation; an operator's instructs both sides.
      const taken = terms.instructedBy === "both" ? sides : [terms.instructedBy];
      return taken.map((side) => status(side, CODES.accepted[side], { status: "accepted" }));
    }
    case "affirmed": {
      const side: DvpSide = terms.instructedBy === "seller" ? "buyer" : "seller";
      return [status(side, CODES.accepted[side], { status: "accepted" })];
    }
    case "rejected":
    case "refunded": {
      const rejection = dvpRejectionOf(pvp);
      return sides.map((side) => status(side, CODES.rejected[side], { status: "rejected", reason: rejection.reason, information: rejection.information }));
    }
    case "settled": {
      const cash = pvp.dtLeg!;
      const amount = { currency: KZT, minorUnits: cash.amount };
      const confirmations = sides.map((side): OutboundNotice => ({
        id: `${pvp.id}-${CODES.settled[side]}`,
        type: "sese.025.001.11",
        to: agentCounterparty(terms[side].bic),
        summary: { side, movement: side === "seller" ? "DELI" : "RECE" },
        xml: renderValidated(
          buildSettlementConfirmation({
            envelope: envelope(side, CODES.settled[side]),
            transactionId: terms[side].transactionId,
            side: side === "seller" ? "deliver" : "receive",
            isin: terms.isin,
            quantity: { units: pvp.foreignLeg.amount, decimals: terms.decimals },
            settledAmount: amount,
            tradeDate: terms.tradeDate,
            settledAt: isoDateTime(now),
            delivering: party(terms, "seller"),
            receiving: party(terms, "buyer"),
            reference,
          }),
        ),
        carriesPreimage: false,
      }));
      // The cash side reports like a PvP's DT leg: camt.054 debit to the buyer's broker, credit to the seller's.
      const original = pvp.instruction!;
      const parties = (side: DvpSide) => ({ pvpRef: pvp.pvpRef, from: ourAgent, to: terms[side].bic, createdAt: now, messageRef: pvp.id });
      const cashNotices: OutboundNotice[] = [
        {
          id: `${pvp.id}-ND`,
          type: "camt.054.001.08",
          to: agentCounterparty(terms.buyer.bic),
          summary: { account: cash.payer, creditDebit: "DBIT" },
          xml: notificationMessage(parties("buyer"), original, { account: cash.payer, amount, creditDebit: "DBIT" }),
          carriesPreimage: false,
        },
        {
          id: `${pvp.id}-NC`,
          type: "camt.054.001.08",
          to: agentCounterparty(terms.seller.bic),
          summary: { account: cash.beneficiary, creditDebit: "CRDT" },
          xml: notificationMessage(parties("seller"), original, { account: cash.beneficiary, amount, creditDebit: "CRDT" }),
          carriesPreimage: false,
        },
      ];
      return [...confirmations, ...cashNotices];
    }
  }
}
