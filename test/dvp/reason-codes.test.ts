import { describe, expect, it } from "vitest";
import { REJECTION_BY_REFUSAL, rejectionOf } from "../../src/dvp/reason-codes.ts";
import { SECURITY_REFUSALS } from "../../src/evm/security-token.ts";
import { buildMessage, parseMessage } from "../../src/iso20022/message.ts";
import { buildSettlementStatus, readSettlementStatus } from "../../src/iso20022/dvp/messages.ts";
import { validateMessage } from "../../src/iso20022/validation/validate.ts";

describe("compliance refusals as sese.024 rejections", () => {
  it("names an ISO rejection code for every refusal the token can give, each valid against the schema", () => {
    const refusals = SECURITY_REFUSALS.filter((name) => name !== "none");
    expect(Object.keys(REJECTION_BY_REFUSAL).sort()).toEqual([...refusals].sort());
    for (const refusal of refusals) {
      const xml = buildMessage(buildSettlementStatus({
        envelope: { messageId: `REJ-${refusal}`.slice(0, 35), createdAt: "2026-12-07T10:00:00+05:00", from: "NBRKKZKAXXX", to: "HSBKKZKXXXX" },
        transactionId: "HSBK-DELI-0001",
        reference: { dvpId: "dvp-1", hashLock: "ab".repeat(32) },
        advice: rejectionOf(refusal),
      }));
      expect(validateMessage(xml, { xsdEngine: "libxml2" })).toMatchObject({ valid: true });
      expect(readSettlementStatus(parseMessage(xml)).advice).toEqual({ status: "rejected", reason: REJECTION_BY_REFUSAL[refusal], information: `compliance: ${refusal}` });
    }
  });
});
