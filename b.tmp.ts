import { readFileSync } from "node:fs";
import { readValidatedMessage } from "./src/iso20022/validation/validate.ts";
import { parseMessage } from "./src/iso20022/message.ts";
import { readXml } from "./src/iso20022/xml/safe-reader.ts";
import { cbprFindings } from "./src/iso20022/validation/cbpr-rules.ts";
import { readParts } from "./src/iso20022/message.ts";
const xml = readFileSync("test/fixtures/iso20022/p_2_1_1__CBPR_p.2.1.1_pacs.008_AtoB.xml", "utf8");
function rate(label: string, fn: () => void) { for (let i = 0; i < 2000; i++) fn(); const n = 20000; const t = performance.now(); for (let i = 0; i < n; i++) fn(); console.log(label, Math.round(n / (performance.now() - t) * 1000)); }
rate("readXml", () => readXml(xml));
rate("parseMessage", () => parseMessage(xml));
const parts = readParts(xml);
rate("cbpr", () => cbprFindings(parts));
rate("full", () => { const r = readValidatedMessage(xml); if (!r.valid || !r.message) throw new Error("x"); });
import { schemaFindings } from "./src/iso20022/validation/xsd.ts";
rate("xsd", () => schemaFindings(xml, parts));
rate("full2", () => { const r = readValidatedMessage(xml); if (!r.valid || !r.message) throw new Error("x"); });
rate("xsd", () => schemaFindings(xml, parts));
