import { readFileSync } from "node:fs";

/** The business message versions the gateway reads and writes. */
export const documentTypes = [
  "pacs.008.001.08",
  "pacs.009.001.08",
  "pacs.002.001.10",
  "pacs.004.001.09",
  "camt.056.001.08",
  "camt.029.001.09",
  "camt.053.001.08",
  "camt.054.001.08",
  "pacs.028.001.03",
  "sese.023.001.11",
  "sese.024.001.12",
  "sese.025.001.11",
] as const;

export type DocumentType = (typeof documentTypes)[number];

/** The Business Application Header (BAH) version that travels with every message. */
export const headerType = "head.001.001.02";

export type SchemaId = DocumentType | typeof headerType;

const namespacePrefix = "urn:iso:std:iso:20022:tech:xsd:";

export function namespaceOfSchema(id: SchemaId): string {
  return namespacePrefix + id;
}

/** The message version a namespace URI names, if the gateway speaks it. */
export function schemaOfNamespace(namespace: string | undefined): SchemaId | undefined {
  if (namespace === undefined || !namespace.startsWith(namespacePrefix)) return undefined;
  const id = namespace.slice(namespacePrefix.length);
  return id === headerType || (documentTypes as readonly string[]).includes(id) ? (id as SchemaId) : undefined;
}

export function isDocumentType(id: string): id is DocumentType {
  return (documentTypes as readonly string[]).includes(id);
}

/** The element directly under `Document` for each message version. */
export const messageRootElement: Record<DocumentType, string> = {
  "pacs.008.001.08": "FIToFICstmrCdtTrf",
  "pacs.009.001.08": "FICdtTrf",
  "pacs.002.001.10": "FIToFIPmtStsRpt",
  "pacs.004.001.09": "PmtRtr",
  "camt.056.001.08": "FIToFIPmtCxlReq",
  "camt.029.001.09": "RsltnOfInvstgtn",
  "camt.053.001.08": "BkToCstmrStmt",
  "camt.054.001.08": "BkToCstmrDbtCdtNtfctn",
  "pacs.028.001.03": "FIToFIPmtStsReq",
  "sese.023.001.11": "SctiesSttlmTxInstr",
  "sese.024.001.12": "SctiesSttlmTxStsAdvc",
  "sese.025.001.11": "SctiesSttlmTxConf",
};

/** Securities settlement messages (DvP): the CBPR+ payment usage rules do not apply to them, the XSDs do. */
export function isSecuritiesSettlementMessage(id: DocumentType): boolean {
  return id.startsWith("sese.");
}

const xsdCache = new Map<SchemaId, string>();

/** The official ISO 20022 schema text shipped in `src/iso20022/xsd/`. */
export function schemaText(id: SchemaId): string {
  let text = xsdCache.get(id);
  if (text === undefined) {
    text = readFileSync(new URL(`./xsd/${id}.xsd`, import.meta.url), "utf8");
    xsdCache.set(id, text);
  }
  return text;
}
