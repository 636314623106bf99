import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { CommandIo } from "../../src/core/cli-command.ts";
import { main } from "../../src/cli/main.ts";
import { buildMessage, parseMessage } from "../../src/iso20022/message.ts";
import { clearingDeclaredAsCbpr, fixturesDirectory, pacs008Sample, pacs009Sample, sample } from "./fixtures.ts";

function capture(): CommandIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (line) => lines.push(line), err: (line) => errors.push(line), env: {} };
}

const fixture = (name: string) => fileURLToPath(new URL(name, fixturesDirectory));
const scratch = mkdtempSync(join(tmpdir(), "iso20022-cli-"));
const clearingFile = join(scratch, "clearing-declared-cbpr.xml");
writeFileSync(clearingFile, clearingDeclaredAsCbpr());

describe("tenge-gateway iso", () => {
  it("validate prints one JSON line per file and exits 0 when all are valid", async () => {
    const io = capture();
    const files = [fixture(pacs008Sample), fixture(pacs009Sample)];
    expect(await main(["iso", "validate", ...files], io)).toBe(0);
    expect(io.lines.map((line) => JSON.parse(line))).toEqual([
      { file: files[0], messageType: "pacs.008.001.08", profile: "cbpr+", release: "SR2026", valid: true, errors: [], warnings: [] },
      { file: files[1], messageType: "pacs.009.001.08", profile: "cbpr+", release: "SR2026", valid: true, errors: [], warnings: [] },
    ]);
  });

  it("validate exits 1 when any file is invalid, and reports rule code and path", async () => {
    const bomb = join(scratch, "bomb.xml");
    writeFileSync(bomb, '<!DOCTYPE d [<!ENTITY a "aaaa">]><Document>&a;</Document>');
    const io = capture();
    expect(await main(["iso", "validate", fixture(pacs008Sample), clearingFile, bomb], io)).toBe(1);
    const reports = io.lines.map((line) => JSON.parse(line) as { valid: boolean; messageType: string | null; errors: Array<{ code: string; path: string }> });
    expect(reports.map((report) => report.valid)).toEqual([true, false, false]);
    expect(reports[1]?.errors).toEqual([expect.objectContaining({ code: "CBPR_SETTLEMENT_METHOD", path: "/Document/FIToFICstmrCdtTrf/GrpHdr/SttlmInf/SttlmMtd" })]);
    expect(reports[2]).toMatchObject({ messageType: null, errors: [{ code: "XML_DTD_FORBIDDEN" }] });
  });

  it("validate --profile iso holds messages to the XSDs only; --profile hvps+ allows clearing", async () => {
    const headerless = join(scratch, "headerless.xml");
    writeFileSync(headerless, sample(pacs008Sample).replace(/<AppHdr[\s\S]*<\/AppHdr>/, ""));
    const io = capture();
    expect(await main(["iso", "validate", "--profile", "iso", headerless, clearingFile], io)).toBe(0);
    expect(io.lines.map((line) => JSON.parse(line))).toEqual([
      { file: headerless, messageType: "pacs.008.001.08", profile: "iso", release: null, valid: true, errors: [], warnings: [] },
      { file: clearingFile, messageType: "pacs.008.001.08", profile: "iso", release: null, valid: true, errors: [], warnings: [] },
    ]);
    const hvps = capture();
    expect(await main(["iso", "validate", "--profile=hvps+", clearingFile], hvps)).toBe(0);
    expect(JSON.parse(hvps.lines[0]!)).toMatchObject({ profile: "hvps+", valid: true });
    const cbpr = capture();
    expect(await main(["iso", "validate", headerless], cbpr)).toBe(1);
    expect(JSON.parse(cbpr.lines[0]!)).toMatchObject({ profile: "cbpr+", release: "SR2026", valid: false, errors: [{ code: "CBPR_HEADER_MISSING", severity: "error" }] });
  });

  it("validate reports warnings and exits 0; --strict makes them errors and exits 1", async () => {
    const differentId = join(scratch, "different-bizmsgidr.xml");
    writeFileSync(differentId, sample(pacs008Sample).replace("<BizMsgIdr>pacs8bizmsgidr01", "<BizMsgIdr>another-id"));
    const io = capture();
    expect(await main(["iso", "validate", differentId], io)).toBe(0);
    expect(JSON.parse(io.lines[0]!)).toMatchObject({ valid: true, errors: [], warnings: [{ code: "CBPR_BAH_BIZMSGIDR", severity: "warning", path: "/AppHdr/BizMsgIdr" }] });
    const strict = capture();
    expect(await main(["iso", "validate", "--strict", differentId], strict)).toBe(1);
    expect(JSON.parse(strict.lines[0]!)).toMatchObject({ valid: false, errors: [{ code: "CBPR_BAH_BIZMSGIDR", severity: "error" }], warnings: [] });
  });

  it("validate with an unknown profile is a usage error (exit 2)", async () => {
    const io = capture();
    expect(await main(["iso", "validate", "--profile", "fedwire", fixture(pacs008Sample)], io)).toBe(2);
    expect(io.errors[0]).toContain("cbpr+, cbpr+@sr2025, hvps+, iso");
    expect(io.lines).toEqual([]);
  });

  it("validate without a file is a usage error (exit 2)", async () => {
    const io = capture();
    expect(await main(["iso", "validate"], io)).toBe(2);
    expect(io.errors[0]).toContain("FILE");
  });

  it("parse prints the typed model with amounts as strings, and render gives the XML back", async () => {
    const io = capture();
    expect(await main(["iso", "parse", fixture(pacs009Sample)], io)).toBe(0);
    const json = io.lines.join("\n");
    expect(JSON.parse(json)).toMatchObject({
      messageType: "pacs.009.001.08",
      document: { transactions: [{ interbankSettlementAmount: { currency: "EUR", minorUnits: "65448998" } }] },
    });
    const jsonFile = join(scratch, "pacs009.json");
    writeFileSync(jsonFile, json);
    const rendered = capture();
    expect(await main(["iso", "render", jsonFile], rendered)).toBe(0);
    const xml = rendered.lines.join("\n");
    expect(xml).toBe(buildMessage(parseMessage(sample(pacs009Sample))));
    expect(parseMessage(xml)).toEqual(parseMessage(sample(pacs009Sample)));
  });

  it("render builds a message from typed JSON without trees", async () => {
    const jsonFile = join(scratch, "typed.json");
    const parsed = capture();
    await main(["iso", "parse", fixture(pacs008Sample)], parsed);
    const typed = JSON.parse(parsed.lines.join("\n")) as Record<string, unknown>;
    delete typed.trees;
    writeFileSync(jsonFile, JSON.stringify(typed));
    const rendered = capture();
    expect(await main(["iso", "render", jsonFile], rendered)).toBe(0);
    const xmlFile = join(scratch, "typed.xml");
    writeFileSync(xmlFile, rendered.lines.join("\n"));
    const validated = capture();
    expect(await main(["iso", "validate", xmlFile], validated)).toBe(0);
  });

  it("parse reports a refused input with its code and exits 1", async () => {
    const truncated = join(scratch, "truncated.xml");
    writeFileSync(truncated, sample(pacs008Sample).slice(0, 900));
    const io = capture();
    expect(await main(["iso", "parse", truncated], io)).toBe(1);
    expect(JSON.parse(io.errors[0]!)).toMatchObject({ code: "XML_TRUNCATED" });
  });
});
