import { CodedError } from "../core/errors.ts";

export type MessageStructureCode = "MESSAGE_DOCUMENT_MISSING" | "MESSAGE_NAMESPACE_UNKNOWN" | "MESSAGE_STRUCTURE" | "MESSAGE_FIELD_MISSING";

/**
 * The XML is well formed but is not an AppHdr + Document of a message version the gateway speaks, or a
 * mandatory element is absent (MESSAGE_FIELD_MISSING: refused rather than read as ""). `path` says where.
 */
export class MessageStructureError extends CodedError<MessageStructureCode> {
  readonly path: string;
  constructor(code: MessageStructureCode, message: string, path = "/") {
    super(code, message);
    this.path = path;
  }
}
