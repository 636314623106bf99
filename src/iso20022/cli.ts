import { readFile } from "node:fs/promises";
import { UsageError, type CommandModule } from "../core/cli-command.ts";
import { buildMessage, messageFromJson, messageToJson, parseMessage } from "./message.ts";
import { isValidationProfile, validationProfiles, type ValidationProfile } from "./validation/profiles.ts";
import { validateMessage } from "./validation/validate.ts";

async function readInput(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
  }
}

function fileArguments(args: string[], atMost?: number): string[] {
  const unknown = args.find((arg) => arg.startsWith("-"));
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  if (args.length === 0) throw new UsageError("give at least one FILE");
  if (atMost !== undefined && args.length > atMost) throw new UsageError(`give exactly ${atMost} FILE`);
  return args;
}

/** `--profile NAME` (or `--profile=NAME`) and `--strict`, then the files. */
function validateArguments(args: string[]): { profile: ValidationProfile; strict: boolean; files: string[] } {
  let profile: ValidationProfile = "cbpr+";
  let strict = false;
  const rest: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === "--strict") {
      strict = true;
    } else if (arg === "--profile" || arg.startsWith("--profile=")) {
      const name = arg === "--profile" ? args[++index] : arg.slice("--profile=".length);
      if (!isValidationProfile(name)) throw new UsageError(`--profile takes one of ${validationProfiles.join(", ")}; got ${name ?? "nothing"}`);
      profile = name;
    } else {
      rest.push(arg);
    }
  }
  return { profile, strict, files: fileArguments(rest) };
}

export const validate: CommandModule = {
  help: [
    "Usage: npx tenge-gateway iso validate [--profile cbpr+|cbpr+@sr2025|hvps+|iso] [--strict] FILE...",
    "",
    "Validates ISO 20022 messages (AppHdr + Document in an envelope, or a Document alone): safe XML, the",
    "official XSDs, then the usage rules of the profile (default cbpr+, the CBPR+ SR2026 release;",
    "cbpr+@sr2025 the previous release, unstructured addresses allowed; hvps+; iso = XSDs only).",
    "Prints one JSON line per file:",
    '  {"file","messageType","profile","release","valid","errors":[{"code","severity","path","message"}],"warnings":[...]}',
    "A message is valid when it has no error; warnings (guidelines the network's own samples break) are",
    "reported beside. --strict counts warnings as errors.",
    "Exit code 0 when every file is valid, 1 otherwise. Rule codes: docs/iso20022-validation.md.",
  ].join("\n"),
  async run(args, io) {
    const { profile, strict, files } = validateArguments(args);
    let allValid = true;
    for (const file of files) {
      const report = validateMessage(await readInput(file), { profile, strict });
      allValid &&= report.valid;
      io.out(JSON.stringify({ file, ...report }));
    }
    return allValid ? 0 : 1;
  },
};

export const parse: CommandModule = {
  help: [
    "Usage: npx tenge-gateway iso parse FILE",
    "",
    "Prints the typed model of an ISO 20022 message as JSON (amounts in minor units, as strings), with the",
    "element trees it was read from under `trees` so `iso render` gives the message back.",
    "Exit code 1 when the XML is refused (unsafe, malformed, unknown message).",
  ].join("\n"),
  async run(args, io) {
    const [file] = fileArguments(args, 1);
    try {
      io.out(messageToJson(parseMessage(await readInput(file!))));
      return 0;
    } catch (error) {
      if (error instanceof UsageError || !(error instanceof Error) || !("code" in error)) throw error;
      io.err(JSON.stringify({ file, code: error.code, message: error.message }));
      return 1;
    }
  },
};

export const render: CommandModule = {
  help: [
    "Usage: npx tenge-gateway iso render FILE.json",
    "",
    "Prints the XML of a message given as the JSON `iso parse` prints (the inverse of parse). `trees` may be",
    "left out: the message is then built from the typed model alone, in the SWIFT envelope.",
  ].join("\n"),
  async run(args, io) {
    const [file] = fileArguments(args, 1);
    let json: unknown;
    try {
      json = JSON.parse(await readInput(file!));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`${file} is not JSON`);
    }
    try {
      io.out(buildMessage(messageFromJson(json)));
      return 0;
    } catch (error) {
      if (!(error instanceof Error) || !("code" in error)) throw error;
      io.err(JSON.stringify({ file, code: error.code, message: error.message }));
      return 1;
    }
  },
};
