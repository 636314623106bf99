import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import {
  buildMessage,
  buildMessageParts,
  messageFromJson,
  messageToJson,
  parseMessage,
  type Iso20022Message,
} from "../../src/iso20022/message.ts";
import { validateMessage } from "../../src/iso20022/validation/validate.ts";
import { pacs008Sample, pacs009Sample, sample } from "./fixtures.ts";

const pacs009 = sample(pacs009Sample);
const prefixed = sample("c_56_4_1__CBPR_c.56.4.1_pacs.002_CtoB.xml");

function pacs009Of(message: Iso20022Message): Iso20022Message<"pacs.009.001.08"> {
  if (message.messageType !== "pacs.009.001.08") throw new Error(`expected a pacs.009, got ${message.messageType}`);
  return message;
}

describe("typed model", () => {
  it("reads amounts as bigint minor units with their currency", () => {
    const message = pacs009Of(parseMessage(pacs009));
    expect(message.document.transactions[0]?.interbankSettlementAmount).toEqual({ currency: "EUR", minorUnits: 65448998n });
    expect(message.header).toMatchObject({ from: "ABNANL2AXXX", to: "NDEAFIHHXXX", messageDefinitionId: "pacs.009.001.08" });
  });

  it("reads and writes with or without namespace prefixes, keeping the prefixes it was given", () => {
    const message = parseMessage(prefixed);
    expect(message.messageType).toBe("pacs.002.001.10");
    expect(message.header?.businessMessageId).toBe("pacs002bizmsgidr-001");
    const built = buildMessage(message);
    expect(built).toContain("<pacs:TxSts>ACSC</pacs:TxSts>");
    expect(built).toContain("<head:BizMsgIdr>pacs002bizmsgidr-001</head:BizMsgIdr>");
    expect(validateMessage(built).errors).toEqual([]);
  });

  it("keeps elements the model does not cover through an edit of the typed fields", () => {
    const withPurpose = pacs009.replace("</PmtId>", "</PmtId><PmtTpInf><InstrPrty>HIGH</InstrPrty></PmtTpInf>");
    const message = pacs009Of(parseMessage(withPurpose));
    const transaction = message.document.transactions[0]!;
    transaction.interbankSettlementAmount = { currency: "KZT", minorUnits: 500_000_000_00n };
    transaction.remittanceInformation = ["/PVP/abc"];
    const built = buildMessage(message);
    expect(built).toContain("<InstrPrty>HIGH</InstrPrty>");
    expect(built).toContain('<IntrBkSttlmAmt Ccy="KZT">500000000.00</IntrBkSttlmAmt>');
    expect(validateMessage(built).errors).toEqual([]);
    expect(pacs009Of(parseMessage(built)).document.transactions[0]?.remittanceInformation).toEqual(["/PVP/abc"]);
  });

  it("inserts new elements at their schema position and removes the ones set to undefined", () => {
    const message = pacs009Of(parseMessage(pacs009));
    const transaction = message.document.transactions[0]!;
    transaction.transactionId = "TX-1";
    delete transaction.interbankSettlementDate;
    const built = buildMessage(message);
    expect(built.indexOf("<TxId>TX-1</TxId>")).toBeGreaterThan(built.indexOf("</EndToEndId>"));
    expect(built.indexOf("<TxId>TX-1</TxId>")).toBeLessThan(built.indexOf("<UETR>"));
    expect(built).not.toContain("<IntrBkSttlmDt>");
    expect(validateMessage(built).errors).toEqual([]);
  });

  it("keeps the amount text it read when the value is unchanged (10 USD stays 10)", () => {
    const xml = sample("p_2_1_2__CBPR_p.2.1.2_pacs.008_AtoB.xml");
    const amountText = /<IntrBkSttlmAmt Ccy="[A-Z]+">([^<]+)</.exec(xml)?.[1];
    expect(buildMessage(parseMessage(xml))).toContain(`>${amountText}</IntrBkSttlmAmt>`);
  });

  it("reads AppHdr and Document given as two parts", () => {
    const whole = parseMessage(pacs009);
    const parts = buildMessageParts(whole);
    const fromParts = parseMessage({ header: parts.header!, document: parts.document });
    expect(fromParts.document).toEqual(whole.document);
    expect(fromParts.header).toEqual(whole.header);
    expect(validateMessage({ header: parts.header!, document: parts.document })).toEqual({ messageType: "pacs.009.001.08", profile: "cbpr+", release: "SR2026", valid: true, errors: [], warnings: [] });
  });

  it("reads a Document sent alone (the CBPR+ layer then asks for the header)", () => {
    const documentOnly = buildMessageParts(parseMessage(pacs009)).document;
    expect(parseMessage(documentOnly).header).toBeUndefined();
    expect(validateMessage(documentOnly).errors.map((error) => error.code)).toEqual(["CBPR_HEADER_MISSING"]);
  });

  it("survives JSON: bigints travel as strings and come back as bigints", () => {
    const message = parseMessage(sample(pacs008Sample));
    const json = messageToJson(message);
    expect(json).toContain('"minorUnits": "1566938"');
    expect(messageFromJson(JSON.parse(json))).toEqual(message);
    expect(buildMessage(messageFromJson(JSON.parse(json)))).toBe(buildMessage(message));
  });

  it("agrees with fast-xml-parser on the values it reads", () => {
    interface Node {
      [name: string]: Node | string;
    }
    const reference = new XMLParser({ ignoreAttributes: false, removeNSPrefix: true, parseTagValue: false }).parse(pacs009) as Node;
    const at = (node: Node | string, ...names: string[]): Node | string =>
      names.reduce<Node | string>((current, name) => (typeof current === "string" ? current : current[name]!), node);
    const transaction = at(reference, "Envelope", "Document", "FICdtTrf", "CdtTrfTxInf");
    const message = pacs009Of(parseMessage(pacs009));
    expect(at(transaction, "PmtId", "UETR")).toBe(message.document.transactions[0]?.uetr);
    expect(at(transaction, "IntrBkSttlmAmt", "#text")).toBe("654489.98");
    expect(at(transaction, "IntrBkSttlmAmt", "@_Ccy")).toBe(message.document.transactions[0]?.interbankSettlementAmount.currency);
  });
});
