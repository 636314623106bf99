/**
 * ISO 20022 throughput on one core (one Node.js thread; libxml2 runs as WebAssembly on the same thread), per
 * second of the process's CPU time.
 * For the pacs.008 and pacs.009 CBPR+ samples: messages/s of the full path (safe read + typed model + XSD +
 * CBPR+ rules) beside the bare fast-xml-parser parse rate of the same messages, the full path with libxml2 as
 * the XSD engine, the layers alone, and the time to refuse hostile inputs. The last line is one JSON object of the figures.
 *
 *   npm run bench:iso
 */
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { XMLParser } from "fast-xml-parser";
import { readParts, typedMessage } from "../src/iso20022/message.ts";
import { cbprFindings } from "../src/iso20022/validation/cbpr-rules.ts";
import { readValidatedMessage, treeSchemaFindings, validateMessage } from "../src/iso20022/validation/validate.ts";
import { schemaFindings } from "../src/iso20022/validation/xsd.ts";

const directory = new URL("../test/fixtures/iso20022/", import.meta.url);
const samplesOf = (kind: string) =>
  readdirSync(directory)
    .filter((name) => name.includes(`_${kind}`) && name.endsWith(".xml"))
    .map((name) => readFileSync(new URL(name, directory), "utf8"));

/** CPU time of this process so far (its GC threads included), in milliseconds: what other processes on a shared machine hardly move. */
const threadCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * Messages per second of `work` over `messages`, measured for about `seconds` after a warm-up, per second
 * of the process's CPU time (not of the wall clock, which load elsewhere on the machine stretches).
 */
function rate(messages: string[], work: (xml: string) => unknown, seconds = 2): number {
  for (let index = 0; index < 200; index++) work(messages[index % messages.length]!);
  let count = 0;
  const start = threadCpuMs();
  const end = start + seconds * 1000;
  while (threadCpuMs() < end) {
    for (let index = 0; index < 500; index++) work(messages[(count + index) % messages.length]!);
    count += 500;
  }
  return Math.round((count / (threadCpuMs() - start)) * 1000);
}

const fastXmlParser = new XMLParser({ ignoreAttributes: false });

const rounds = 7;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * The figures of one message kind. The machine may be shared, so every figure is the median of several
 * short runs taken in turn (full, fast-xml-parser, layers, full, ...), not one long run that a burst of
 * load elsewhere could sink.
 */
function measure(kind: string) {
  const messages = samplesOf(kind);
  const paths: Record<string, (xml: string) => unknown> = {
    full: (xml) => {
      const result = readValidatedMessage(xml);
      if (result.messageType === null) throw new Error("bench sample refused");
      return result;
    },
    fullWithLibxml2: (xml) => readValidatedMessage(xml, { xsdEngine: "libxml2" }),
    fastXmlParser: (xml) => fastXmlParser.parse(xml),
    typed: (xml) => typedMessage(readParts(xml)),
    xsdTree: (xml) => treeSchemaFindings(readParts(xml)),
    xsdLibxml2: (xml) => schemaFindings(xml, readParts(xml)),
    cbpr: (xml) => cbprFindings(readParts(xml)),
  };
  const samples: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, work] of Object.entries(paths)) (samples[name] ??= []).push(rate(messages, work, 0.25));
  }
  const figure = (name: string) => median(samples[name]!);
  console.log(
    `${kind} (${messages.length} samples, median of ${rounds} runs): full validation ${figure("full")}/s ` +
      `(with libxml2 as XSD engine ${figure("fullWithLibxml2")}/s) | fast-xml-parser parse ${figure("fastXmlParser")}/s | ` +
      `safe read + typed model ${figure("typed")}/s | safe read + XSD: tree ${figure("xsdTree")}/s, libxml2 ${figure("xsdLibxml2")}/s | ` +
      `safe read + CBPR+ ${figure("cbpr")}/s`,
  );
  return {
    samples: messages.length,
    fullValidationPerSecond: figure("full"),
    fastXmlParserPerSecond: figure("fastXmlParser"),
    fullValidationWithLibxml2PerSecond: figure("fullWithLibxml2"),
    typedParsePerSecond: figure("typed"),
    xsdTreePerSecond: figure("xsdTree"),
    xsdLibxml2PerSecond: figure("xsdLibxml2"),
    cbprPerSecond: figure("cbpr"),
  };
}

// Warm every path up (JIT tiers, libxml2 schema compilation) before any figure is taken.
const warmUp = [...samplesOf("pacs.008"), ...samplesOf("pacs.009")];
rate(warmUp, (xml) => readValidatedMessage(xml), 1.5);
rate(warmUp, (xml) => fastXmlParser.parse(xml), 0.5);

const pacs008 = measure("pacs.008");
const pacs009 = measure("pacs.009");

const base = samplesOf("pacs.008")[0]!;
const hostile: Record<string, string> = {
  entityBomb:
    '<!DOCTYPE lolz [<!ENTITY lol "lol">' +
    Array.from({ length: 9 }, (_, level) => `<!ENTITY lol${level + 1} "${`&lol${level === 0 ? "" : level};`.repeat(10)}">`).join("") +
    "]><Document>&lol9;</Document>",
  externalEntity: '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Document>&xxe;</Document>',
  body50MB: base.replace("<Nm>", `<Nm>${"A".repeat(50 * 1024 * 1024)}`),
  nesting10000: `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">${"<a>".repeat(10_000)}${"</a>".repeat(10_000)}</Document>`,
  truncated: base.slice(0, base.length / 2),
  wrongNamespace: base.replace("pacs.008.001.08\"", "pacs.008.001.99\""),
};
const hostileMilliseconds: Record<string, number> = {};
for (const [name, xml] of Object.entries(hostile)) {
  const start = performance.now();
  const report = validateMessage(xml);
  hostileMilliseconds[name] = Math.round((performance.now() - start) * 100) / 100;
  console.log(`hostile ${name}: ${report.errors[0]?.code ?? "accepted!"} in ${hostileMilliseconds[name]} ms`);
}

// Other processes on the machine skew every figure; the load average says how much.
const loadAverage = loadavg().map((value) => Math.round(value * 100) / 100);
console.log(`load average during the run: ${loadAverage.join(", ")}`);
console.log(JSON.stringify({ pacs008, pacs009, hostileMilliseconds, loadAverage, node: process.version }));
