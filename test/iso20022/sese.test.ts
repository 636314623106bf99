import { parseStringPromise } from "xml2js";
import { describe, expect, it } from "vitest";
import {
  buildSettlementConfirmation,
  buildSettlementInstruction,
  buildSettlementStatus,
  readSettlementConfirmation,
  readSettlementInstruction,
  readSettlementStatus,
  type DvpSettlementConfirmation,
  type DvpSettlementInstruction,
  type DvpStatusAdvice,
} from "../../src/iso20022/dvp/messages.ts";
import { namespaceOfSchema, schemaOfNamespace } from "../../src/iso20022/catalog.ts";
import { buildMessage, buildMessageParts, messageFromJson, messageToJson, parseMessage } from "../../src/iso20022/message.ts";
import { DVP_REFERENCE_NAMESPACE } from "../../src/iso20022/messages/securities.ts";
import { isIsin, parseIsin } from "../../src/core/isin.ts";
import { readValidatedMessage, validateMessage } from "../../src/iso20022/validation/validate.ts";

const envelope = { messageId: "DVP-MSG-0001", createdAt: "2026-12-07T10:00:00+05:00", from: "HSBKKZKXXXX", to: "NBRKKZKAXXX" };
const seller = { bic: "HSBKKZKXXXX", holdingAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", depositoryBic: "CSDKKZKAXXX", safekeepingAccount: "KZ-CSD-0001" };
const buyer = { bic: "KCJBKZKXXXX", holdingAddress: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", depositoryBic: "CSDKKZKAXXX" };
const reference = { dvpId: "dvp-7f3a", hashLock: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", expiresAt: "2026-12-07T12:00:00+05:00" };

const instruction: DvpSettlementInstruction = {
  envelope,
  transactionId: "HSBK-DELI-0001",
  side: "deliver",
  isin: "KZKD00001020",
  quantity: { units: 150n, decimals: 0 },
  settlementAmount: { currency: "KZT", minorUnits: 15_075_000_00n },
  tradeDate: "2026-12-07",
  settlementDate: "2026-12-08",
  delivering: seller,
  receiving: buyer,
  reference,
};
const advice: DvpStatusAdvice = {
  envelope: { ...envelope, messageId: "DVP-MSG-0002", from: "NBRKKZKAXXX", to: "HSBKKZKXXXX" },
  transactionId: "HSBK-DELI-0001",
  reference,
  advice: { status: "rejected", reason: "DSEC", information: "compliance: receiverNotEligible" },
};
const confirmation: DvpSettlementConfirmation = {
  envelope: { ...envelope, messageId: "DVP-MSG-0003", from: "NBRKKZKAXXX", to: "KCJBKZKXXXX" },
  transactionId: "KCJB-RECE-0001",
  side: "receive",
  isin: "KZKD00001020",
  quantity: { units: 150n, decimals: 0 },
  settledAmount: { currency: "KZT", minorUnits: 15_075_000_00n },
  tradeDate: "2026-12-07",
  settledAt: "2026-12-08T10:05:00+05:00",
  delivering: seller,
  receiving: buyer,
  reference: { dvpId: reference.dvpId, hashLock: reference.hashLock },
};

const instructionXml = buildMessage(buildSettlementInstruction(instruction));
const adviceXml = buildMessage(buildSettlementStatus(advice));
const confirmationXml = buildMessage(buildSettlementConfirmation(confirmation));

describe("catalog", () => {
  it("speaks sese.023.001.11, sese.024.001.12 and sese.025.001.11", () => {
    for (const id of ["sese.023.001.11", "sese.024.001.12", "sese.025.001.11"] as const) expect(schemaOfNamespace(namespaceOfSchema(id))).toBe(id);
  });
});

describe("ISIN (ISO 6166)", () => {
  it("accepts a valid check digit and refuses a wrong one or a bad shape", () => {
    expect(isIsin("US0378331005")).toBe(true);
    expect(isIsin("KZKD00001020")).toBe(true);
    expect(isIsin("US0378331004")).toBe(false);
    expect(() => parseIsin("KZKD00001021")).toThrow(expect.objectContaining({ code: "ISIN_INVALID" }));
    expect(() => parseIsin("kzkd00001020")).toThrow(expect.objectContaining({ code: "ISIN_INVALID" }));
  });
});

describe("round trips", () => {
  for (const [name, xml] of [["sese.023", instructionXml], ["sese.024", adviceXml], ["sese.025", confirmationXml]] as const) {
    it(`${name} is valid against its official XSD with both engines, and parse -> build gives the same bytes`, () => {
      for (const xsdEngine of ["tree", "libxml2"] as const) {
        expect(validateMessage(xml, { xsdEngine })).toMatchObject({ valid: true, errors: [], warnings: [] });
        expect(validateMessage(xml, { xsdEngine, profile: "iso" })).toMatchObject({ valid: true });
      }
      const parsed = parseMessage(xml);
      expect(buildMessage(parsed)).toBe(xml);
      expect(buildMessage(messageFromJson(JSON.parse(messageToJson(parsed))))).toBe(xml);
      const parts = buildMessageParts(parsed);
      expect(validateMessage(parts, { xsdEngine: "libxml2" })).toMatchObject({ valid: true });
    });
  }

  it("reads back the instruction it built (ISIN, quantity, KZT amount, parties, dates, hash-lock)", () => {
    expect(readSettlementInstruction(parseMessage(instructionXml), 0)).toEqual(instruction);
    const receive = { ...instruction, side: "receive" as const, envelope: { ...envelope, from: "KCJBKZKXXXX" } };
    expect(readSettlementInstruction(parseMessage(buildMessage(buildSettlementInstruction(receive))), 0)).toEqual(receive);
  });

  it("reads back fractional units at the security's decimals", () => {
    const fractional = { ...instruction, quantity: { units: 150_05n, decimals: 2 } };
    const xml = buildMessage(buildSettlementInstruction(fractional));
    expect(xml).toContain("<Unit>150.05</Unit>");
    expect(readSettlementInstruction(parseMessage(xml), 2)).toEqual(fractional);
  });

  it("reads back each status of a sese.024", () => {
    for (const status of [{ status: "accepted" }, { status: "rejected", reason: "DSEC" }, { status: "pending", reason: "LACK" }, { status: "pending" }, { status: "failing", reason: "MONY", information: "cash leg not locked" }] as const) {
      const xml = buildMessage(buildSettlementStatus({ ...advice, advice: status }));
      expect(validateMessage(xml, { xsdEngine: "libxml2" })).toMatchObject({ valid: true });
      expect(readSettlementStatus(parseMessage(xml)).advice).toEqual(status);
    }
    expect(readSettlementStatus(parseMessage(adviceXml))).toEqual(advice);
  });

  it("reads back the confirmation it built", () => {
    expect(readSettlementConfirmation(parseMessage(confirmationXml), 0)).toEqual(confirmation);
  });

  it("puts the hash-lock where an independent XML reader finds it: SplmtryData/Envlp in the gateway's own namespace", async () => {
    const tree = await parseStringPromise(instructionXml, { explicitArray: false, xmlns: true });
    const body = tree.Envelope.Document.SctiesSttlmTxInstr;
    expect(body.FinInstrmId.ISIN._).toBe("KZKD00001020");
    expect(body.QtyAndAcctDtls.SttlmQty.Qty.Unit._).toBe("150");
    expect(body.SttlmAmt.Amt._).toBe("15075000.00");
    expect(body.SttlmAmt.Amt.$.Ccy.value).toBe("KZT");
    expect(body.SplmtryData.Envlp.DvpRef.$ns.uri).toBe(DVP_REFERENCE_NAMESPACE);
    expect(body.SplmtryData.Envlp.DvpRef.HshLck._).toBe(reference.hashLock);
  });

  it("is not held to the CBPR+ payment rules (a Document without AppHdr is valid under the default profile)", () => {
    const document = buildMessageParts(parseMessage(instructionXml)).document;
    expect(validateMessage(document)).toMatchObject({ valid: true, warnings: [] });
  });
});

describe("hostile and wrong input", () => {
  const refusedBy = (xml: string, code: string) => {
    const report = readValidatedMessage(xml, { xsdEngine: "tree" });
    expect(report.valid).toBe(false);
    expect(report.errors.map((error) => error.code)).toContain(code);
  };

  it("refuses a DTD, an entity and a wrong namespace before any schema work", () => {
    refusedBy(`<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${instructionXml.slice(instructionXml.indexOf("<Envelope"))}`, "XML_DTD_FORBIDDEN");
    refusedBy(instructionXml.replace("<TxId>HSBK-DELI-0001</TxId>", "<TxId>&xxe;</TxId>"), "XML_ENTITY_FORBIDDEN");
    refusedBy(instructionXml.replace("sese.023.001.11\">", "sese.023.001.09\">"), "MESSAGE_NAMESPACE_UNKNOWN");
  });

  it("refuses what the XSD refuses (a movement type that is not DELI or RECE, a 13-character ISIN)", () => {
    for (const xsdEngine of ["tree", "libxml2"] as const) {
      expect(validateMessage(instructionXml.replace("<SctiesMvmntTp>DELI", "<SctiesMvmntTp>SEND"), { xsdEngine }).valid).toBe(false);
      expect(validateMessage(instructionXml.replace("<ISIN>KZKD00001020", "<ISIN>KZKD000010201"), { xsdEngine }).valid).toBe(false);
    }
  });

  const readerRefuses = (xml: string, code: string, decimals = 0) => {
    expect(() => readSettlementInstruction(parseMessage(xml), decimals)).toThrow(expect.objectContaining({ code }));
  };

  it("refuses an instruction a DvP cannot settle, each with its code", () => {
    readerRefuses(instructionXml.replace("<ISIN>KZKD00001020", "<ISIN>KZKD00001021"), "DVP_ISIN_INVALID");
    readerRefuses(instructionXml.replace(reference.hashLock, reference.hashLock.toUpperCase()), "DVP_HASH_LOCK_INVALID");
    readerRefuses(instructionXml.replace(`<HshLck>${reference.hashLock}`, `<HshLck>${reference.hashLock.slice(2)}`), "DVP_HASH_LOCK_INVALID");
    readerRefuses(instructionXml.replace("<Pmt>APMT</Pmt>", "<Pmt>FREE</Pmt>"), "DVP_FIELD_INVALID");
    readerRefuses(instructionXml.replace('Ccy="KZT"', 'Ccy="USD"'), "DVP_AMOUNT_INVALID");
    readerRefuses(instructionXml.replace("<Unit>150</Unit>", "<Unit>150.5</Unit>"), "DVP_QUANTITY_INVALID");
    readerRefuses(instructionXml.replace("<Unit>150</Unit>", "<Unit>0</Unit>"), "DVP_QUANTITY_INVALID");
    readerRefuses(instructionXml.replace("<Unit>150</Unit>", "<Unit>1e9</Unit>"), "DVP_QUANTITY_INVALID");
    readerRefuses(instructionXml.replace(seller.holdingAddress, "0xnothex"), "DVP_FIELD_INVALID");
    readerRefuses(instructionXml.replace("<CmonId>dvp-7f3a</CmonId>", "<CmonId>dvp-other</CmonId>"), "DVP_FIELD_INVALID");
    readerRefuses(instructionXml.replace("<Dt>2026-12-08</Dt>", "<Dt>2026-12-06</Dt>"), "DVP_FIELD_INVALID");
    readerRefuses(instructionXml.replace(/<ISIN>[^<]*<\/ISIN>/, ""), "DVP_FIELD_MISSING");
  });

  it("ignores a DvpRef that is not in the gateway's namespace (a spoof in the ISO one) and refuses two", () => {
    readerRefuses(instructionXml.replace(` xmlns="${DVP_REFERENCE_NAMESPACE}"`, ""), "DVP_FIELD_MISSING");
    const supplementary = /<SplmtryData>[\s\S]*<\/SplmtryData>/.exec(instructionXml)![0];
    readerRefuses(instructionXml.replace(supplementary, supplementary + supplementary), "MESSAGE_STRUCTURE");
    readerRefuses(instructionXml.replace(/<HshLck>[^<]*<\/HshLck>/, ""), "MESSAGE_FIELD_MISSING");
  });

  it("refuses another message type, and a status advice with two statuses or none", () => {
    expect(() => readSettlementInstruction(parseMessage(adviceXml), 0)).toThrow(expect.objectContaining({ code: "DVP_MESSAGE_TYPE" }));
    const twoStatuses = adviceXml.replace("</PrcgSts>", "</PrcgSts><SttlmSts><Pdg><NoSpcfdRsn>NORE</NoSpcfdRsn></Pdg></SttlmSts>");
    expect(validateMessage(twoStatuses, { xsdEngine: "libxml2" }).valid).toBe(true);
    expect(() => readSettlementStatus(parseMessage(twoStatuses))).toThrow(expect.objectContaining({ code: "DVP_STATUS_INVALID" }));
    const none = adviceXml.replace(/<PrcgSts>[\s\S]*<\/PrcgSts>/, "");
    expect(() => readSettlementStatus(parseMessage(none))).toThrow(expect.objectContaining({ code: "DVP_STATUS_INVALID" }));
  });

  it("the builders refuse what the readers refuse, so the gateway never sends a message it would not accept", () => {
    expect(() => buildSettlementInstruction({ ...instruction, isin: "KZKD00001021" })).toThrow(expect.objectContaining({ code: "DVP_ISIN_INVALID" }));
    expect(() => buildSettlementInstruction({ ...instruction, settlementAmount: { currency: "KZT", minorUnits: 0n } })).toThrow(expect.objectContaining({ code: "DVP_AMOUNT_INVALID" }));
    expect(() => buildSettlementInstruction({ ...instruction, quantity: { units: 0n, decimals: 0 } })).toThrow(expect.objectContaining({ code: "DVP_QUANTITY_INVALID" }));
    expect(() => buildSettlementInstruction({ ...instruction, transactionId: "x".repeat(36) })).toThrow(expect.objectContaining({ code: "DVP_FIELD_INVALID" }));
    expect(() => buildSettlementStatus({ ...advice, advice: { status: "rejected", reason: "compliance" } })).toThrow(expect.objectContaining({ code: "DVP_STATUS_INVALID" }));
    expect(() => buildSettlementConfirmation({ ...confirmation, settledAt: "2026-12-08T10:05:00" })).toThrow(expect.objectContaining({ code: "DVP_FIELD_INVALID" }));
  });
});
