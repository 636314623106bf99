import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CommandModule } from "../../src/core/cli-command.ts";
import { commands } from "../../src/cli/commands.ts";
import { KNOWN_SETTINGS } from "../../src/config/setting-names.ts";

/** Every piece of code in the README and docs/: fenced blocks (continuation lines joined) and inline spans. */
function codeSnippets(): Array<{ file: string; code: string }> {
  const files = ["README.md", ...readdirSync("docs").filter((name) => name.endsWith(".md")).map((name) => join("docs", name))];
  const snippets: Array<{ file: string; code: string }> = [];
  for (const file of files) {
    let text = readFileSync(file, "utf8");
    text = text.replace(/```[a-z]*(?: [a-z]+)?\n([\s\S]*?)```/g, (_match, block: string) => {
      for (const line of block.replace(/\\\n\s*/g, " ").split("\n")) snippets.push({ file, code: line });
      return "";
    });
    for (const match of text.matchAll(/`([^`]+)`/g)) snippets.push({ file, code: match[1]!.replace(/\s+/g, " ") });
  }
  return snippets;
}

const firstWords = new Set(commands.map((entry) => entry.words[0]!));

/** The commands the docs write, with the options they give each. */
function documentedCalls(): Array<{ file: string; words: string[] | undefined; written: string; options: string[] }> {
  const calls: Array<{ file: string; words: string[] | undefined; written: string; options: string[] }> = [];
  for (const { file, code } of codeSnippets()) {
    for (const part of code.split(/\s*(?:\|\||&&|;|\|)\s*/)) {
      const tokens = part.trim().split(" ");
      const at = tokens.indexOf("tenge-gateway");
      const explicit = at >= 0 && (at === 0 || tokens[at - 1] === "npx");
      const rest = explicit ? tokens.slice(at + 1) : tokens.filter((token, index) => index > 0 || firstWords.has(token));
      if (!explicit && (rest.length < 2 || !firstWords.has(rest[0]!))) continue;
      if (rest.length === 0 || rest[0]!.startsWith("-") || rest[0] === "<command>") continue;
      // A shell function of the runbook passing its arguments on (`dt() { ... dt-ledger "$@"; }`): npm run test:runbook runs it.
      if (rest.includes('"$@";') || rest.includes('"$@"')) continue;
      const entry = commands
        .filter((candidate) => candidate.words.every((word, index) => rest[index] === word))
        .sort((a, b) => b.words.length - a.words.length)[0];
      // Without "npx tenge-gateway", only a span that starts with a whole command's words is a call.
      if (!entry && !explicit) continue;
      const options = rest.slice(entry?.words.length ?? 0).filter((token) => /^--[a-z][a-z-]*$/.test(token));
      calls.push({ file, words: entry?.words, written: rest.slice(0, 4).join(" "), options });
    }
  }
  return calls;
}

describe("the commands the README and docs/ write exist, with the options they give", () => {
  const calls = documentedCalls();

  it("finds the runbook's commands in docs/deploy.md", () => {
    const named = new Set(calls.filter((call) => call.file === "docs/deploy.md" && call.words).map((call) => call.words!.join(" ")));
    for (const command of ["keys generate", "dt-ledger serve", "dt-ledger participants add", "dt-ledger accounts open", "dt-ledger issue", "contracts deploy", "contracts issue-demo-cbdc", "stablecoin redeem", "migrate", "start"]) {
      expect(named).toContain(command);
    }
  });

  it("names only commands that exist", () => {
    expect(calls.filter((call) => !call.words).map((call) => `${call.file}: tenge-gateway ${call.written}`)).toEqual([]);
  });

  it("gives each command only options its --help lists", async () => {
    const wrong: string[] = [];
    for (const call of calls.filter((candidate) => candidate.words)) {
      const entry = commands.find((candidate) => candidate.words.join(" ") === call.words!.join(" "))!;
      const module: CommandModule = await entry.load();
      for (const option of call.options) if (option !== "--help" && !module.help.includes(option)) wrong.push(`${call.file}: ${call.words!.join(" ")} ${option}`);
    }
    expect(wrong).toEqual([]);
  });

  it("sets only variables the project reads, in the commands it writes", () => {
    const unknown = new Set<string>();
    for (const { file, code } of codeSnippets()) {
      for (const part of code.split(/\s*(?:\|\||&&|;|\|)\s*/)) {
        // A shell capture (`ID=$(npx tenge-gateway ...)`) names a shell variable, not a setting: what follows `$(` is the command.
        const tokens = part.trim().split(" ").map((token) => /^[A-Z][A-Z0-9_]*=\$\((.*)$/.exec(token)?.[1] ?? token);
        const at = tokens.indexOf("npx");
        if (at < 0 || tokens[at + 1] !== "tenge-gateway") continue;
        // The environment given to the command: VAR=value words before it (payer keys of a ledgers file are named freely).
        for (const token of tokens.slice(0, at)) {
          const name = /^([A-Z][A-Z0-9_]*)=/.exec(token)?.[1];
          if (name && !KNOWN_SETTINGS.includes(name) && name !== "FCB_PAYER_KEY") unknown.add(`${file}: ${name}`);
        }
      }
    }
    expect([...unknown]).toEqual([]);
  });
});

describe("files the README and docs/ tell a user to create", () => {
  it("go outside the repository or under a path git ignores", () => {
    const inside: string[] = [];
    for (const { file, code } of codeSnippets()) {
      // Paths written by commands (--out, --deployments-dir) and by shell redirections (those look like file names).
      const written = [
        ...[...code.matchAll(/(?:--out |--deployments-dir |DEPLOYMENTS_DIR=)"?([^\s"|;)]+)/g)].map((match) => match[1]!).filter((path) => !["FILE", "DIR"].includes(path) && !path.startsWith("<")),
        ...[...code.matchAll(/(?:^|\s)>>? ?"?([^\s"|;)<>]+)/g)].map((match) => match[1]!).filter((path) => /^[\w./$~-]+$/.test(path) && /[./]/.test(path) && !path.startsWith("-")),
      ];
      for (const path of written) {
        if (/^[/$~]/.test(path)) continue; // absolute, the home directory or a shell variable the text sets
        const ignored = spawnSync("git", ["check-ignore", "-q", "--no-index", path]).status === 0;
        if (!ignored) inside.push(`${file}: ${path}`);
      }
    }
    expect(inside).toEqual([]);
  });
});

describe("links between the README and docs/", () => {
  /** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
  const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");

  it("point at files and headings that exist", () => {
    const files = ["README.md", ...readdirSync("docs").filter((name) => name.endsWith(".md")).map((name) => join("docs", name))];
    const broken: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const match of text.matchAll(/\]\(([^)\s#]*\.md)?(#[^)\s]+)?\)/g)) {
        const [, target, anchor] = match;
        if (!target && !anchor) continue;
        const path = target ? join(file === "README.md" ? "." : "docs", target) : file;
        let linked: string;
        try {
          linked = readFileSync(path, "utf8");
        } catch {
          broken.push(`${file}: ${match[0]}`);
          continue;
        }
        if (!anchor) continue;
        const anchors = new Set([...linked.replace(/```[\s\S]*?```/g, "").matchAll(/^#{1,6} (.+)$/gm)].map((heading) => slug(heading[1]!)));
        if (!anchors.has(anchor.slice(1))) broken.push(`${file}: ${match[0]}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
