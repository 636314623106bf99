import { readFileSync } from "node:fs";
import { readValidatedMessage } from "./src/iso20022/validation/validate.ts";
const xml = readFileSync("test/fixtures/iso20022/p_2_1_1__CBPR_p.2.1.1_pacs.008_AtoB.xml", "utf8");
for (let i = 0; i < 30000; i++) readValidatedMessage(xml);
