import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  cancellationRequestMessage,
  instructionMessage,
  lockedMessage,
  maxStatusRequests,
  messageIdOf,
  notificationMessage,
  pvpMessageCodes,
  rejectedMessage,
  rejectionToBankMessage,
  resolutionMessage,
  settledMessage,
  statusRequestIdOf,
  statusRequestMessage,
  type PvpMessageKind,
} from "../../src/pvp/protocol/pvp-messages.ts";

const kinds = Object.keys(pvpMessageCodes) as PvpMessageKind[];
const pvpIdAlphabet = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"];
/** Any PvP id the profile allows: 1 to 32 of A-Z a-z 0-9 '-'. */
const pvpIdArbitrary = fc.array(fc.constantFrom(...pvpIdAlphabet), { minLength: 1, maxLength: 32 }).map((characters) => characters.join(""));
const statusRequestNumbers = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: maxStatusRequests }));

/** Every id the gateway gives a PvP's messages: each fixed kind, and the status requests numbered. */
function idsOf(pvpId: string, sequences: number[]): Array<{ id: string; message: string }> {
  return [
    ...kinds.map((kind) => ({ id: messageIdOf(pvpId, kind), message: `${pvpId} ${kind}` })),
    ...sequences.map((sequence) => ({ id: statusRequestIdOf(pvpId, sequence), message: `${pvpId} pacs.028 #${sequence}` })),
  ];
}

describe("business message ids", () => {
  it("no two distinct messages of any PvP ids share an id, and every id fits 35 characters", () => {
    fc.assert(
      fc.property(fc.uniqueArray(pvpIdArbitrary, { minLength: 1, maxLength: 8 }), fc.uniqueArray(statusRequestNumbers, { maxLength: 12 }), (pvpIds, sequences) => {
        const seen = new Map<string, string>();
        for (const pvpId of pvpIds) {
          for (const { id, message } of idsOf(pvpId, sequences)) {
            expect(id.length).toBeLessThanOrEqual(35);
            const earlier = seen.get(id);
            expect(earlier === undefined || earlier === message, `${message} and ${earlier} share ${id}`).toBe(true);
            seen.set(id, message);
          }
        }
        expect(seen.size).toBe(pvpIds.length * (kinds.length + sequences.length));
      }),
      { numRuns: 500 },
    );
  });

  it("the same message of the same PvP always gets the same id (a resend is a duplicate)", () => {
    fc.assert(
      fc.property(pvpIdArbitrary, fc.constantFrom(...kinds), statusRequestNumbers, (pvpId, kind, sequence) => {
        expect(messageIdOf(pvpId, kind)).toBe(messageIdOf(pvpId, kind));
        expect(statusRequestIdOf(pvpId, sequence)).toBe(statusRequestIdOf(pvpId, sequence));
      }),
    );
  });

  it("an id that is no PvP id, or a status request number out of range, is refused", () => {
    expect(() => messageIdOf("x".repeat(33), "locked")).toThrow(/1 to 32 characters/);
    expect(() => messageIdOf("a/b", "locked")).toThrow(/1 to 32 characters/);
    expect(() => statusRequestIdOf("abc", 0)).toThrow(RangeError);
    expect(() => statusRequestIdOf("abc", maxStatusRequests + 1)).toThrow(RangeError);
  });

  it("a 32-character PvP id: every message the gateway sends about it, in both roles, has its own BizMsgIdr", () => {
    const pvpId = "7f3c2a9e41d84b6a9c0e5d1f2a3b4c5d";
    const localId = "rsp0123456789abcdef01234567";
    const createdAt = new Date("2026-11-23T05:00:00Z");
    const toPeer = { pvpRef: pvpId, from: "NBRKKZKX", to: "PBOCCNBJ", createdAt };
    const toBank = { ...toPeer, to: "NBRKKZKX", messageRef: localId };
    const { xml: instruction, reference } = instructionMessage(toPeer, {
      uetr: "3f1c9c52-6a0e-4b8e-9f33-1c2d3e4f5a6b",
      amount: { currency: "KZT", minorUnits: 100_000_000n },
      hashLock: "954d5a49fd70d9b8bcdb35d252267829957f7ef7fa6c74f88419bdc5e82209f4",
      expiry: new Date("2026-11-23T07:00:00Z"),
      debtor: "NBRKKZKX",
      creditor: "PBOCCNBJ",
    });
    const preimage = "00".repeat(32);
    const amount = { currency: "KZT", minorUnits: 100_000_000n };
    const sent = [
      instruction,
      lockedMessage(toPeer, reference, "954d5a49fd70d9b8bcdb35d252267829957f7ef7fa6c74f88419bdc5e82209f4", new Date("2026-11-23T06:00:00Z")),
      settledMessage(toPeer, reference, preimage, "reveal"),
      settledMessage(toPeer, reference, preimage, "settled"),
      rejectedMessage(toPeer, reference, "AB05"),
      cancellationRequestMessage(toPeer, reference, amount, "TECH"),
      resolutionMessage(toPeer, reference, "CNCL"),
      resolutionMessage(toPeer, reference, "RJCR", "ARDT"),
      notificationMessage(toBank, reference, { account: "DA-NBK-1", amount, creditDebit: "DBIT" }),
      notificationMessage(toBank, reference, { account: "DA-NBK-2", amount, creditDebit: "CRDT" }),
      rejectionToBankMessage(toBank, reference, "AB05"),
      statusRequestMessage(toPeer, statusRequestIdOf(pvpId, 1), reference),
      statusRequestMessage(toPeer, statusRequestIdOf(pvpId, 2), reference),
    ];
    const ids = sent.map((xml) => /<BizMsgIdr>([^<]+)<\/BizMsgIdr>/.exec(xml)![1]!);
    expect(new Set(ids).size).toBe(sent.length);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(35);
    expect(ids).toContain(`${pvpId}-AP`);
    expect(ids).toContain(`${pvpId}-AC`);
    expect(ids).toContain(`${localId}-ND`);
    expect(ids).toContain(`${localId}-NC`);
    expect(ids).toContain(`${pvpId}001`);
  });
});
