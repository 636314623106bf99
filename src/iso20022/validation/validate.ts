import { headerType, isSecuritiesSettlementMessage, type DocumentType } from "../catalog.ts";
import type { XmlElement } from "../xml/tree.ts";
import { checkPartAgainstSchema } from "./schema-check.ts";
import { AmountError } from "../../core/money.ts";
import { readParts, typedMessage, type Iso20022Message, type LocatedParts, type MessageInput } from "../message.ts";
import { MessageStructureError } from "../message-structure-error.ts";
import { defaultLimits, XmlRefusedError, type SafeXmlLimits } from "../xml/safe-reader.ts";
import { cbprFindings } from "./cbpr-rules.ts";
import { finding, type Finding } from "./findings.ts";
import { cbprRelease, defaultValidationProfile, type ValidationProfile } from "./profiles.ts";
import { schemaFindings } from "./xsd.ts";

/**
 * The outcome of validating one message: the same shape the CLI prints and the HTTP API returns. `valid`
 * is false only when there is an error; warnings are reported beside and leave the message valid.
 */
export interface ValidationReport {
  messageType: DocumentType | null;
  profile: ValidationProfile;
  /** The CBPR+ release whose rules applied (`SR2026` for cbpr+, `SR2025` for cbpr+@sr2025); null otherwise. */
  release: string | null;
  valid: boolean;
  errors: Finding[];
  warnings: Finding[];
}

export interface ValidationOptions {
  limits?: SafeXmlLimits;
  /** The rules the message is held to (see profiles.ts); `cbpr+` by default. */
  profile?: ValidationProfile;
  /** Warnings count as errors. */
  strict?: boolean;
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
  const profile = options.profile ?? defaultValidationProfile;
  let parts: LocatedParts;
  try {
    parts = readParts(input, options.limits ?? defaultLimits);
  } catch (error) {
    return { messageType: null, profile, release: cbprRelease(profile), valid: false, errors: [refusal(error)], warnings: [] };
  }
  const errors = options.xsdEngine === "libxml2" ? schemaFindings(input, parts) : treeSchemaFindings(parts);
  const warnings: Finding[] = [];
  // CBPR+ and HVPS+ are payment guidelines: a securities settlement message is held to its XSD alone.
  if (profile !== "iso" && !isSecuritiesSettlementMessage(parts.messageType)) {
    for (const found of cbprFindings(parts, profile)) {
      if (found.severity === "error") errors.push(found);
      else if (options.strict) errors.push({ ...found, severity: "error" });
      else warnings.push(found);
    }
  }
  const report: ValidatedMessage = { messageType: parts.messageType, profile, release: cbprRelease(profile), valid: errors.length === 0, errors, warnings };
  if (report.valid) {
    try {
      report.message = typedMessage(parts);
    } catch (error) {
      // Under cbpr+/hvps+ amount errors are already reported; under iso the message is valid but has no
      // exact typed value (for example 3 decimals in USD), so it comes without `message`.
      if (error instanceof MessageStructureError) {
        report.errors.push(refusal(error));
        report.valid = false;
      } else if (!(error instanceof AmountError)) {
        throw error;
      }
    }
  }
  return report;
}

/** The validation report alone (for the CLI and the HTTP API). */
export function validateMessage(input: MessageInput, options: ValidationOptions = {}): ValidationReport {
  const { messageType, profile, release, valid, errors, warnings } = readValidatedMessage(input, options);
  return { messageType, profile, release, valid, errors, warnings };
}
