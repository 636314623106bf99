import { readdirSync, readFileSync } from "node:fs";
import { validateMessage } from "./src/iso20022/validation/validate.ts";
import { parseMessage, buildMessage } from "./src/iso20022/message.ts";
const dir = "test/fixtures/iso20022/";
for (const f of readdirSync(dir).filter((f) => f.endsWith(".xml"))) {
  const xml = readFileSync(dir + f, "utf8");
  const r = validateMessage(xml);
  const m = parseMessage(xml); const bare = { ...m }; delete bare.trees;
  const r2 = validateMessage(buildMessage(m)); const r3 = validateMessage(buildMessage(bare));
  console.log(f, r.valid, JSON.stringify(r.errors), r2.valid, r3.valid ? "" : JSON.stringify(r3.errors));
}
