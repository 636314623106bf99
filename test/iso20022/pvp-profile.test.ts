import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildMessage, parseMessage } from "../../src/iso20022/message.ts";
import {
  buildPvpInstruction,
  buildPvpStatus,
  readPvpCancellationRequest,
  readPvpInstruction,
  readPvpNotification,
  readPvpResolution,
  readPvpReturn,
  readPvpStatus,
  readPvpStatusRequest,
  type PvpInstruction,
} from "../../src/iso20022/pvp/messages.ts";
import { hashLockOf } from "../../src/core/hash-lock.ts";
import { validateMessage } from "../../src/iso20022/validation/validate.ts";
import { hashLock, nbk, pboc, preimage, pvpExample, pvpId } from "./pvp-example.ts";

const [instruction, locked, settled, notification, rejected, cancellation, resolution, paymentReturn] = pvpExample.map((entry) =>
  parseMessage(buildMessage(entry.message)),
);

describe("PvP profile", () => {
  it.each(pvpExample)("$title: builds a message valid under XSD and CBPR+ (strict), and under libxml2 as the independent XSD check", ({ message }) => {
    const xml = buildMessage(message);
    expect(validateMessage(xml, { strict: true })).toEqual({ messageType: message.messageType, profile: "cbpr+", release: "SR2026", valid: true, errors: [], warnings: [] });
    expect(validateMessage(xml, { profile: "iso", xsdEngine: "libxml2" })).toMatchObject({ valid: true, errors: [] });
  });

  it("pacs.028 names the pacs.009 it asks about and reads back what was built", () => {
    const request = pvpExample.find((entry) => entry.message.messageType === "pacs.028.001.03")!.message;
    expect(readPvpStatusRequest(parseMessage(buildMessage(request)))).toEqual({
      messageId: "7f3c2a9e41d84b6a9c0e5d1f2a3b4c5d001",
      createdAt: "2026-11-23T10:01:00+05:00",
      from: nbk,
      to: pboc,
      original: { messageId: "NBK-PVP-000123", createdAt: "2026-11-23T10:00:00+05:00", instructionId: "NBK-PVP-000123", endToEndId: "PVP-7f3c2a9e41d84b6a", uetr: "3f2b7c1e-8d4a-4e6f-9a1b-2c3d4e5f6a7b" },
    });
    const noUetr = buildMessage(request).replace(/<OrgnlUETR>[^<]*<\/OrgnlUETR>/, "");
    expect(validateMessage(noUetr).errors.map((error) => error.code)).toEqual(["CBPR_UETR_MISSING"]);
    expect(() => readPvpStatusRequest(parseMessage(noUetr))).toThrow(expect.objectContaining({ code: "PVP_FIELD_MISSING" }));
  });

  it("pacs.009 carries the PvP id, hash-lock and expiry in one Ustrd line of at most 140 FIN X characters", () => {
    const read = readPvpInstruction(instruction!);
    expect(read).toMatchObject({ pvpId, hashLock, expiry: "2026-11-23T12:00:00+05:00", from: nbk, to: pboc, amount: { currency: "CNY", minorUnits: 1_500_000n } });
    const line = buildMessage(instruction!).match(/<Ustrd>([^<]*)<\/Ustrd>/)?.[1] ?? "";
    expect(line).toBe(`/PVP/${pvpId}/HLCK/${hashLock}/EXPY/2026-11-23T12:00:00+05:00`);
    expect(line.length).toBeLessThanOrEqual(140);
  });

  it("pacs.002 reports lock (ACSP), settle (ACSC with the preimage) and reject (RJCT with an ISO reason)", () => {
    expect(readPvpStatus(locked!)).toMatchObject({ status: "ACSP", pvpId, hashLock, original: { uetr: "3f2b7c1e-8d4a-4e6f-9a1b-2c3d4e5f6a7b" } });
    expect(readPvpStatus(settled!, hashLock)).toMatchObject({ status: "ACSC", pvpId, preimage });
    expect(readPvpStatus(rejected!)).toMatchObject({ status: "RJCT", pvpId, reason: "AB03" });
  });

  it("an ACSC whose preimage does not open the hash-lock is refused", () => {
    const otherLock = hashLockOf(`0x${"00".repeat(32)}`).slice(2);
    expect(() => readPvpStatus(settled!, otherLock)).toThrow(expect.objectContaining({ code: "PVP_PREIMAGE_MISMATCH" }));
  });

  it("camt.054, camt.056, camt.029 and pacs.004 read back what was built", () => {
    expect(readPvpNotification(notification!)).toMatchObject({ pvpId, creditDebit: "CRDT", amount: { currency: "KZT", minorUnits: 100_000_000n } });
    expect(readPvpCancellationRequest(cancellation!)).toMatchObject({ pvpId, reason: "CUST", caseId: "NBK-CASE-000077" });
    expect(readPvpResolution(resolution!)).toMatchObject({ pvpId, outcome: "CNCL", caseId: "NBK-CASE-000077" });
    expect(readPvpReturn(paymentReturn!)).toMatchObject({ pvpId, reason: "FOCR", returnedAmount: { currency: "CNY", minorUnits: 1_500_000n } });
  });

  describe("refuses instructions that break the profile", () => {
    const valid = readPvpInstruction(instruction!);
    const cases: Array<[string, Partial<PvpInstruction>, string]> = [
      ["an uppercase hash-lock", { hashLock: hashLock.toUpperCase() }, "PVP_HASH_LOCK_INVALID"],
      ["a short hash-lock", { hashLock: hashLock.slice(2) }, "PVP_HASH_LOCK_INVALID"],
      ["an expiry without offset", { expiry: "2026-11-23T12:00:00" }, "PVP_EXPIRY_INVALID"],
      ["a PvP id longer than 32 characters", { pvpId: "7f3c2a9e-41d8-4b6a-9c0e-5d1f2a3b4c5d" }, "PVP_ID_INVALID"],
      ["a PvP id with a slash", { pvpId: "a/b" }, "PVP_ID_INVALID"],
    ];
    it.each(cases)("%s", (_name, change, code) => {
      expect(() => buildPvpInstruction({ ...valid, ...change })).toThrow(expect.objectContaining({ code }));
    });

    it("a pacs.009 without the tag line", () => {
      const plain = parseMessage(buildMessage(instruction!).replace(/<RmtInf>[\s\S]*<\/RmtInf>/, ""));
      expect(() => readPvpInstruction(plain)).toThrow(expect.objectContaining({ code: "PVP_TAG_MISSING" }));
    });

    it("a preimage that is not 32 bytes", () => {
      const status = readPvpStatus(settled!);
      expect(() => buildPvpStatus({ ...status, status: "ACSC", preimage: "ab".repeat(31) })).toThrow(expect.objectContaining({ code: "PVP_PREIMAGE_INVALID" }));
    });

    it("a status of another kind", () => {
      expect(() => readPvpStatus(instruction!)).toThrow(expect.objectContaining({ code: "PVP_MESSAGE_TYPE" }));
    });
  });

  it("docs/iso20022-pvp-profile.md shows exactly what the builders produce, and every example validates", () => {
    const doc = readFileSync(new URL("../../docs/iso20022-pvp-profile.md", import.meta.url), "utf8");
    const examples = [...doc.matchAll(/```xml\n([\s\S]*?)```/g)].map((match) => match[1]!);
    // The page shows what goes between the two gateways: not the notices to banks (camt.054) nor pacs.004.
    const exchanged = pvpExample.filter(({ message }) => !["camt.054.001.08", "pacs.004.001.09"].includes(message.messageType));
    expect(examples).toEqual(exchanged.map(({ message }) => `${buildMessage(message)}\n`));
    for (const xml of examples) expect(validateMessage(xml)).toMatchObject({ profile: "cbpr+", release: "SR2026", valid: true, errors: [], warnings: [] });
  });
});

describe("PvP tag lines", () => {
  it("never echo a malformed line, which may hold a preimage", () => {
    const status = buildMessage(locked!).replace(`/HLCK/${hashLock}`, `/PRIM/${preimage}/HLCK`);
    let error: unknown;
    try {
      readPvpStatus(parseMessage(status));
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: "PVP_TAG_MALFORMED" });
    expect(String((error as Error).message)).not.toContain(preimage.slice(0, 8));
  });
});
