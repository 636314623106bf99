import { readFile } from "node:fs/promises";
import { UsageError, type CommandModule } from "../cli/command.ts";
import { buildMessage, messageFromJson, messageToJson, parseMessage } from "./message.ts";
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

export const validate: CommandModule = {
  help: [
    "Usage: npx tenge-gateway iso validate FILE...",
    "",
    "Validates ISO 20022 messages (AppHdr + Document in an envelope, or a Document alone) in three layers:",
    "safe XML, the official XSDs, CBPR+ usage rules. Prints one JSON line per file:",
    '  {"file","messageType","valid","errors":[{"code","path","message"}]}',
    "Exit code 0 when every file is valid, 1 otherwise. Rule codes: docs/iso20022-validation.md.",
  ].join("\n"),
  async run(args, io) {
    let allValid = true;
    for (const file of fileArguments(args)) {
      const report = validateMessage(await readInput(file));
      allValid &&= report.valid;
      io.out(JSON.stringify({ file, messageType: report.messageType, valid: report.valid, errors: report.errors }));
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
