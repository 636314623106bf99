import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { validateMessage } from "../../src/iso20022/validation/validate.ts";
import {
  cancellationRequestMessage,
  instructionMessage,
  lockedMessage,
  rejectedMessage,
  resolutionMessage,
  settledMessage,
  statusRequestIdOf,
  statusRequestMessage,
} from "../../src/pvp/protocol/pvp-messages.ts";
import { cancellationReasonOf, PVP_REASON_CODES } from "../../src/pvp/reason-codes.ts";
import { hashLock, nbk, pboc, preimage, pvpId } from "../iso20022/pvp-example.ts";

/**
 * The examples of docs/iso20022-pvp-profile.md ("A full example") against what the gateway's sending code
 * (src/pvp/protocol/pvp-messages.ts, with the reasons of src/pvp/reason-codes.ts) builds for the same PvP:
 * equal but for business ids and timestamps, which the page writes in a reader's style.
 */
const doc = readFileSync(new URL("../../docs/iso20022-pvp-profile.md", import.meta.url), "utf8");
const section = doc.slice(doc.indexOf("## A full example"));
const examples = new Map([...section.matchAll(/^### (\d+)\. [^\n]*\n[\s\S]*?```xml\n([\s\S]*?)```/gm)].map((match) => [Number(match[1]), match[2]!]));

/** Ids and instants blanked: what is left is what a correspondent must get right. */
function normalized(xml: string): string {
  return xml
    .trimEnd()
    .replace(/<(BizMsgIdr|MsgId|InstrId|EndToEndId|OrgnlMsgId|OrgnlInstrId|OrgnlEndToEndId)>[^<]*</g, "<$1>ID<")
    .replace(/<(Assgnmt|Case|RslvdCase)>(\s*)<Id>[^<]*<\/Id>/g, "<$1>$2<Id>ID</Id>")
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)/g, "TIME")
    .replace(/<(IntrBkSttlmDt|OrgnlIntrBkSttlmDt)>\d{4}-\d{2}-\d{2}</g, "<$1>DATE<");
}

describe("docs/iso20022-pvp-profile.md: every example is what the gateway sends", () => {
  const at = new Date("2026-11-23T05:00:00Z");
  const expiry = new Date("2026-11-23T07:00:00Z");
  const out = { pvpRef: pvpId, from: nbk, to: pboc, createdAt: at };
  const back = { pvpRef: pvpId, from: pboc, to: nbk, createdAt: at };
  const instruction = instructionMessage(out, {
    uetr: "3f2b7c1e-8d4a-4e6f-9a1b-2c3d4e5f6a7b",
    amount: { currency: "CNY", minorUnits: 1_500_000n },
    hashLock,
    expiry,
    debtor: "BKCHCNBJ",
    creditor: "HSBKKZKX",
  });
  const original = instruction.reference;
  const sent = new Map<number, string>([
    [1, instruction.xml],
    [2, lockedMessage(back, original, hashLock, expiry)],
    [3, settledMessage(back, original, preimage, "settled")],
    [4, rejectedMessage(back, original, PVP_REASON_CODES.timeout.code)],
    // A bank's cancellation (the example's case); an abort on time carries DS24 instead (see below).
    [5, cancellationRequestMessage(out, original, { currency: "CNY", minorUnits: 1_500_000n }, cancellationReasonOf({ cancelRequested: true }))],
    [6, resolutionMessage(back, original, "CNCL")],
    [7, statusRequestMessage(out, statusRequestIdOf(pvpId, 1), original)],
  ]);

  it("the page shows one example per message kind the gateways exchange, each valid under the XSDs and CBPR+", () => {
    expect([...examples.keys()]).toEqual([...sent.keys()]);
    for (const [number, xml] of examples) expect(validateMessage(xml), `example ${number}`).toMatchObject({ valid: true, errors: [], warnings: [] });
  });

  it.each([...sent.keys()])("example %i equals the gateway's message but for ids and timestamps", (number) => {
    expect(normalized(examples.get(number)!)).toEqual(normalized(sent.get(number)!));
  });

  it("an abort on time cancels with DS24, a bank's cancellation with CUST; the text says both", () => {
    expect(cancellationReasonOf({ cancelRequested: false })).toBe("DS24");
    expect(cancellationReasonOf({ cancelRequested: true })).toBe("CUST");
    const timeout = cancellationRequestMessage(out, original, { currency: "CNY", minorUnits: 1_500_000n }, cancellationReasonOf({ cancelRequested: false }));
    expect(validateMessage(timeout)).toMatchObject({ valid: true, errors: [] });
    expect(timeout).toContain("<Cd>DS24</Cd>");
    expect(doc).toMatch(/camt\.056 carries `CUST`[^.]*`DS24`/);
  });
});
