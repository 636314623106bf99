import { ACCOUNT_KINDS, ACTIVITY_PAGE_MAX, ALLOTMENT_REFERENCE_MAX } from "../../ledger/dt-ledger-port.ts";

/** JSON schemas of the DT ledger service: tiyn amounts and heights are decimal strings. */
const tiyn = { type: "string", pattern: "^-?[0-9]{1,20}$", description: "tiyn (1 KZT = 100 tiyn)" } as const;
const height = { type: "string", pattern: "^[0-9]{1,20}$" } as const;
const time = { type: "string", format: "date-time" } as const;
const idempotencyKey = { type: "string", minLength: 1, maxLength: 128 } as const;
const text = (maxLength: number) => ({ type: "string", maxLength }) as const;
const paymentType = {
  type: "string",
  enum: [
    "le_to_le",
    "le_to_individual",
    "individual_to_individual",
    "merchant_payment",
    "government_payment",
    "collateral_deposit",
    "collateral_withdrawal",
  ],
} as const;
const nullable = <T extends object>(schema: T) => ({ ...schema, nullable: true }) as const;

export const servicerSchema = {
  type: "object",
  required: ["accountId", "participantId"],
  properties: { accountId: { type: "string" }, participantId: { type: "string" } },
} as const;

export const accountSchema = {
  type: "object",
  required: ["id", "participantId", "kind", "holderName", "status", "openedAt"],
  properties: {
    id: { type: "string" },
    participantId: { type: "string" },
    kind: { type: "string", enum: ACCOUNT_KINDS },
    holderName: { type: "string" },
    status: { type: "string", enum: ["open", "closed"] },
    openedAt: time,
  },
} as const;

export const balanceSchema = {
  type: "object",
  required: ["accountId", "available", "held", "height"],
  properties: { accountId: { type: "string" }, available: tiyn, held: tiyn, height },
} as const;

export const receiptSchema = {
  type: "object",
  required: ["transactionId", "height", "from", "to", "amount", "reference", "paymentType", "bookedAt"],
  properties: {
    transactionId: { type: "string" },
    height,
    from: { type: "string" },
    to: { type: "string" },
    amount: tiyn,
    reference: { type: "string" },
    paymentType,
    bookedAt: time,
  },
} as const;

export const conversionSchema = {
  type: "object",
  required: ["transactionId", "height", "accountId", "amount", "reference", "bookedAt"],
  properties: { transactionId: { type: "string" }, height, accountId: { type: "string" }, amount: tiyn, reference: { type: "string" }, bookedAt: time },
} as const;

const conditionSchema = {
  type: "object",
  properties: { hashLock: { type: "string" }, eventId: { type: "string" } },
  additionalProperties: false,
} as const;

export const holdSchema = {
  type: "object",
  required: ["id", "from", "beneficiary", "amount", "condition", "expiresAt", "reference", "status", "createdHeight", "settledHeight", "preimage"],
  properties: {
    id: { type: "string" },
    from: { type: "string" },
    beneficiary: { type: "string" },
    amount: tiyn,
    condition: conditionSchema,
    expiresAt: time,
    reference: { type: "string" },
    status: { type: "string", enum: ["held", "released", "refunded"] },
    createdHeight: height,
    settledHeight: nullable(height),
    preimage: nullable({ type: "string" }),
  },
} as const;

/** The creditor side's consent to a refund before the expiry: its BIC and the id of its signed message. */
const earlyConsentSchema = {
  type: "object",
  required: ["by", "message"],
  additionalProperties: false,
  properties: { by: { type: "string", pattern: "^[A-Z0-9]{8}([A-Z0-9]{3})?$" }, message: { type: "string", minLength: 1, maxLength: 35 } },
} as const;

export const eventSchema = {
  type: "object",
  required: ["id", "type", "height", "at"],
  description: "issued, redeemed, payment, hold_created, hold_released (with preimage), hold_refunded, account_opened, account_closed",
  properties: {
    id: { type: "string" },
    type: { type: "string" },
    height,
    at: time,
    accountId: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    amount: tiyn,
    reference: { type: "string" },
    paymentType,
    transactionId: { type: "string" },
    hold: holdSchema,
    preimage: nullable({ type: "string" }),
    account: accountSchema,
    earlyConsent: earlyConsentSchema,
  },
} as const;

export const eventPageSchema = {
  type: "object",
  required: ["events", "cursor"],
  properties: { events: { type: "array", items: eventSchema }, cursor: { type: "string" } },
} as const;

const entrySchema = {
  type: "object",
  required: ["entryId", "transactionId", "height", "bookedAt", "kind", "direction", "amount", "reference", "counterparty", "holdId", "paymentType"],
  properties: {
    entryId: { type: "string" },
    transactionId: { type: "string" },
    height,
    bookedAt: time,
    kind: { type: "string", enum: ["issuance", "redemption", "payment", "hold_release"] },
    direction: { type: "string", enum: ["credit", "debit"] },
    amount: tiyn,
    reference: { type: "string" },
    counterparty: nullable({
      type: "object",
      required: ["accountId", "holderName", "participantId"],
      properties: { accountId: { type: "string" }, holderName: { type: "string" }, participantId: { type: "string" } },
    }),
    holdId: nullable({ type: "string" }),
    paymentType: nullable(paymentType),
  },
} as const;

export const activitySchema = {
  type: "object",
  required: ["account", "fromHeight", "toHeight", "openingBalance", "closingBalance", "entries"],
  properties: {
    account: accountSchema,
    fromHeight: height,
    toHeight: height,
    openingBalance: tiyn,
    closingBalance: tiyn,
    entries: { type: "array", items: entrySchema },
    nextFromHeight: { ...nullable(height), description: "set when more entries follow: the next page's fromHeight" },
  },
} as const;

export const statementSchema = {
  type: "object",
  required: ["statement", "domain", "signature", "signer"],
  properties: {
    statement: {
      type: "object",
      required: ["account", "balance", "paidOut", "height", "timestamp"],
      properties: { account: { type: "string" }, balance: tiyn, paidOut: tiyn, height, timestamp: height },
    },
    domain: {
      type: "object",
      required: ["chainId", "verifyingContract"],
      properties: { chainId: { type: "integer" }, verifyingContract: { type: "string" } },
    },
    signature: { type: "string" },
    signer: { type: "string" },
  },
} as const;

const uint = { type: "string", pattern: "^[0-9]{1,78}$", description: "uint256 as a decimal string" } as const;
const chainId = { type: "string", pattern: "^[1-9][0-9]{0,15}$", description: "EVM chain id, decimal" } as const;
const address = { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" } as const;

export const signedAllotmentSchema = {
  type: "object",
  required: ["allotment", "signature", "signer"],
  properties: {
    allotment: {
      type: "object",
      required: ["account", "sequence", "credited", "moved", "height", "timestamp", "chains"],
      properties: {
        account: { type: "string" },
        sequence: uint,
        credited: uint,
        moved: uint,
        height: uint,
        timestamp: uint,
        chains: {
          type: "array",
          items: {
            type: "object",
            required: ["chainId", "token", "issuanceLimit"],
            properties: { chainId: uint, token: { type: "string" }, issuanceLimit: uint },
          },
        },
      },
    },
    signature: { type: "string" },
    signer: { type: "string" },
  },
} as const;

export const latestAllotmentSchema = {
  type: "object",
  required: ["latest"],
  properties: { latest: { ...signedAllotmentSchema, nullable: true } },
} as const;

/** One of the three changes; the ledger checks each kind's fields itself (ALLOTMENT_* and INVALID_REQUEST). */
export const allotmentBody = {
  type: "object",
  required: ["reference", "change"],
  additionalProperties: false,
  properties: {
    reference: { type: "string", minLength: 1, maxLength: ALLOTMENT_REFERENCE_MAX, pattern: "^[\\x21-\\x7e]+$" },
    change: {
      type: "object",
      required: ["kind"],
      additionalProperties: false,
      properties: {
        kind: { type: "string", enum: ["credit", "move", "addChain"] },
        chainId,
        from: chainId,
        to: chainId,
        amount: tiyn,
        token: address,
      },
    },
  },
} as const;

export const monitoringSchema = {
  type: "object",
  required: ["height", "supply", "issued", "redeemed", "openAccounts", "activeHolds", "heldAmount"],
  properties: { height, supply: tiyn, issued: tiyn, redeemed: tiyn, openAccounts: height, activeHolds: height, heldAmount: tiyn },
} as const;

export const openAccountBody = {
  type: "object",
  required: ["idempotencyKey", "kind", "holderName"],
  additionalProperties: false,
  properties: { idempotencyKey, kind: { type: "string" }, holderName: text(140) },
} as const;

export const refundBody = {
  type: "object",
  required: ["idempotencyKey"],
  additionalProperties: false,
  properties: { idempotencyKey, earlyConsent: earlyConsentSchema },
} as const;

export const keyOnlyBody = {
  type: "object",
  required: ["idempotencyKey"],
  additionalProperties: false,
  properties: { idempotencyKey },
} as const;

export const conversionBody = {
  type: "object",
  required: ["idempotencyKey", "accountId", "amount", "reference"],
  additionalProperties: false,
  properties: { idempotencyKey, accountId: text(64), amount: tiyn, reference: text(140) },
} as const;

export const transferBody = {
  type: "object",
  required: ["idempotencyKey", "from", "to", "amount", "reference"],
  additionalProperties: false,
  properties: { idempotencyKey, from: text(64), to: text(64), amount: tiyn, reference: text(140), returnOf: text(36) },
} as const;

export const holdBody = {
  type: "object",
  required: ["idempotencyKey", "from", "beneficiary", "amount", "condition", "expiresAt", "reference"],
  additionalProperties: false,
  properties: {
    idempotencyKey,
    from: text(64),
    beneficiary: text(64),
    amount: tiyn,
    condition: conditionSchema,
    expiresAt: time,
    reference: text(140),
  },
} as const;

export const releaseBody = {
  type: "object",
  required: ["idempotencyKey"],
  additionalProperties: false,
  properties: { idempotencyKey, preimage: { type: "string", maxLength: 200 }, eventId: text(128) },
} as const;

export const accountParams = {
  type: "object",
  required: ["accountId"],
  properties: { accountId: text(64) },
} as const;

export const holdParams = {
  type: "object",
  required: ["holdId"],
  properties: { holdId: text(64) },
} as const;

export const activityQuery = {
  type: "object",
  additionalProperties: false,
  properties: { fromHeight: height, toHeight: height, limit: { type: "integer", minimum: 1, maximum: ACTIVITY_PAGE_MAX } },
} as const;

export const statementQuery = {
  type: "object",
  required: ["chainId", "verifyingContract"],
  additionalProperties: false,
  properties: { chainId: { type: "integer", minimum: 1 }, verifyingContract: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" } },
} as const;

export const eventsQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    after: { type: "string", maxLength: 40 },
    limit: { type: "integer", minimum: 1, maximum: 1000 },
    waitMs: { type: "integer", minimum: 0, maximum: 30000 },
  },
} as const;
