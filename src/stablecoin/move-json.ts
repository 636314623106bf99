import { CURRENCY, currencySchema, formatKzt, kztSchema } from "./kzt.ts";
import { MOVE_STATES, type Move, type MoveAction } from "./model.ts";

/** A move as the API and the CLI show it: amounts in KZT, chain ids as numbers, bigints as strings. */
export function moveJson(move: Move) {
  const destination = Number(move.destinationChainId);
  return {
    ...move,
    // The log may name any uint256; one beyond a JS number is shown as a string (and is refunded).
    destinationChainId: Number.isSafeInteger(destination) ? destination : move.destinationChainId.toString(),
    blockNumber: move.blockNumber.toString(),
    amount: formatKzt(move.amount),
    currency: CURRENCY,
    allotmentSequence: move.allotmentSequence === null ? null : move.allotmentSequence.toString(),
    createdAt: move.createdAt.toISOString(),
    settledAt: move.settledAt ? move.settledAt.toISOString() : null,
  };
}

export const moveActionJson = (action: MoveAction & { at: Date }) => ({ ...action, at: action.at.toISOString() });

export const moveSchema = {
  type: "object",
  required: ["id", "sourceChainId", "txHash", "logIndex", "holder", "amount", "currency", "destinationChainId", "recipient", "state"],
  properties: {
    id: { type: "string", description: "sourceChainId:txHash:logIndex of the MovedOut log; the DT ledger reference is move:<id>" },
    sourceChainId: { type: "integer" },
    txHash: { type: "string" },
    logIndex: { type: "integer" },
    blockNumber: { type: "string" },
    blockHash: { type: "string" },
    holder: { type: "string" },
    amount: kztSchema,
    currency: currencySchema,
    destinationChainId: { type: ["integer", "string"] },
    recipient: { type: "string" },
    exchangeId: { type: ["string", "null"] },
    state: { type: "string", enum: [...MOVE_STATES] },
    targetChainId: { type: ["integer", "null"], description: "where it is minted: the destination, or the source for a refund" },
    refundReason: { type: ["string", "null"] },
    allotmentSequence: { type: ["string", "null"] },
    mintId: { type: ["string", "null"], description: "the mint request that completes it" },
    attempts: { type: "integer" },
    failureCode: { type: ["string", "null"] },
    failureMessage: { type: ["string", "null"] },
    createdAt: { type: "string", format: "date-time" },
    settledAt: { type: ["string", "null"], format: "date-time" },
  },
} as const;

export const moveActionSchema = {
  type: "object",
  properties: { action: { type: "string" }, principalId: { type: "string" }, reason: { type: "string" }, at: { type: "string", format: "date-time" } },
} as const;
