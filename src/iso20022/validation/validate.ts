import type { DocumentType } from "../catalog.ts";
import { AmountError } from "../amount.ts";
import { MessageStructureError, readParts, typedMessage, type Iso20022Message, type LocatedParts, type MessageInput } from "../message.ts";
import { defaultLimits, XmlRefusedError, type SafeXmlLimits } from "../xml/safe-reader.ts";
import { cbprFindings } from "./cbpr-rules.ts";
import { finding, type Finding } from "./findings.ts";
import { schemaFindings } from "./xsd.ts";

/** The outcome of validating one message: the same shape the CLI prints and the HTTP API returns. */
export interface ValidationReport {
  messageType: DocumentType | null;
  valid: boolean;
  errors: Finding[];
}

export interface ValidationOptions {
  limits?: SafeXmlLimits;
}

/** A validated message: the report, and the typed message when it is valid. */
export interface ValidatedMessage extends ValidationReport {
  message?: Iso20022Message;
}

function refusal(error: unknown): Finding {
  if (error instanceof XmlRefusedError) return finding(error.code, error.location ? `@${error.location}` : "/", error.message);
  if (error instanceof MessageStructureError) return finding(error.code, error.path, error.message);
  throw error;
}

/**
 * Reads and validates a message in three layers: safe XML (refused before any schema work), the ISO 20022
 * XSDs, then the CBPR+ usage rules. One read serves the typed view, the rules and the path of every finding;
 * libxml2 reads the text once more for the XSDs.
 */
export function readValidatedMessage(input: MessageInput, options: ValidationOptions = {}): ValidatedMessage {
  let parts: LocatedParts;
  try {
    parts = readParts(input, options.limits ?? defaultLimits);
  } catch (error) {
    return { messageType: null, valid: false, errors: [refusal(error)] };
  }
  const errors = [...schemaFindings(input, parts), ...cbprFindings(parts)];
  const report: ValidatedMessage = { messageType: parts.messageType, valid: errors.length === 0, errors };
  if (report.valid) {
    try {
      report.message = typedMessage(parts);
    } catch (error) {
      // Amount errors are already reported by the CBPR+ layer; anything else is a defect.
      if (!(error instanceof AmountError)) throw error;
    }
  }
  return report;
}

/** The validation report alone (for the CLI and the HTTP API). */
export function validateMessage(input: MessageInput, options: ValidationOptions = {}): ValidationReport {
  const { messageType, valid, errors } = readValidatedMessage(input, options);
  return { messageType, valid, errors };
}
