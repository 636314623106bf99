import { headerType, type DocumentType } from "../catalog.ts";
import type { XmlElement } from "../xml/tree.ts";
import { checkPartAgainstSchema } from "./schema-check.ts";
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
  /**
   * Which XSD engine checks layer 2: "tree" (default) checks the tree the safe reader built against the
   * compiled schemas; "libxml2" parses the text again with libxml2 (the reference the tree check is tested
   * against).
   */
  xsdEngine?: "tree" | "libxml2";
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

/** Layer 2 over the tree already read: AppHdr and Document, each against its own schema. */
export function treeSchemaFindings(parts: LocatedParts): Finding[] {
  const ancestors = parts.envelope ? [parts.envelope] : [];
  const findings = parts.header ? checkPartAgainstSchema(parts.header, headerType, headerAncestors(parts)) : [];
  findings.push(...checkPartAgainstSchema(parts.document, parts.messageType, ancestors));
  return findings;
}

/** A header given as its own part has no envelope above it. */
function headerAncestors(parts: LocatedParts): XmlElement[] {
  return parts.envelope && parts.envelope.children.includes(parts.header!) ? [parts.envelope] : [];
}

/**
 * Reads and validates a message in three layers: safe XML (refused before any schema work), the ISO 20022
 * XSDs, then the CBPR+ usage rules. One read of the text serves the XSD check, the rules, the typed view and
 * the path of every finding (libxml2, when asked for, reads the text once more).
 */
export function readValidatedMessage(input: MessageInput, options: ValidationOptions = {}): ValidatedMessage {
  let parts: LocatedParts;
  try {
    parts = readParts(input, options.limits ?? defaultLimits);
  } catch (error) {
    return { messageType: null, valid: false, errors: [refusal(error)] };
  }
  const schemaErrors = options.xsdEngine === "libxml2" ? schemaFindings(input, parts) : treeSchemaFindings(parts);
  const errors = [...schemaErrors, ...cbprFindings(parts)];
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
