import { serializeInnerList, serializeItem, type InnerList, type Item } from "structured-headers";
import { CodedError } from "../core/errors.ts";

/** Request headers, lower-case names (Node's IncomingHttpHeaders or a plain object). */
export type RequestHeaders = { [name: string]: string | string[] | undefined };

/** What a signature base is built from: the request as the server received it (or the client sends it). */
export interface SignedMessage {
  method: string;
  /** `http` or `https`, for `@scheme` and `@target-uri`. */
  scheme: string;
  /** Host and port as in the Host header; normalised here (lower case, no default port). */
  authority: string;
  /** The request target in origin form: path and query exactly as sent, e.g. `/pvp?state=SETTLED`. */
  target: string;
  headers: RequestHeaders;
}

/** A component identifier this service cannot derive, or a covered header that is absent. */
export class ComponentError extends CodedError<"SIGNATURE_COMPONENTS"> {
  constructor(message: string) {
    super("SIGNATURE_COMPONENTS", message);
  }
}

/** RFC 9421 §2.2.3: the authority in lower case, without the scheme's default port. */
export function normalizeAuthority(authority: string, scheme: string): string {
  const lower = authority.trim().toLowerCase();
  const defaultPort = scheme === "https" ? ":443" : scheme === "http" ? ":80" : undefined;
  return defaultPort && lower.endsWith(defaultPort) ? lower.slice(0, -defaultPort.length) : lower;
}

function splitTarget(target: string): { path: string; query: string } {
  const index = target.indexOf("?");
  const path = index < 0 ? target : target.slice(0, index);
  // §2.2.6 and §2.2.7: an empty path is "/", an absent query is "?".
  return { path: path === "" ? "/" : path, query: index < 0 ? "?" : target.slice(index) };
}

function header(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  // §2.1: each field line's value trimmed, several lines joined with ", ".
  return (Array.isArray(value) ? value : [value]).map((line) => line.trim()).join(", ");
}

/** The value of one covered component, as it appears in the signature base. */
export function componentValue(component: Item, message: SignedMessage): string {
  const [name, params] = component;
  if (typeof name !== "string" || name === "" || name !== name.toLowerCase()) {
    throw new ComponentError("component identifiers are lower-case strings");
  }
  const { path, query } = splitTarget(message.target);
  const authority = normalizeAuthority(message.authority, message.scheme);
  if (name === "@query-param") {
    const wanted = params.get("name");
    if (params.size !== 1 || typeof wanted !== "string") throw new ComponentError("@query-param needs exactly a name parameter");
    const values = new URLSearchParams(query.slice(1)).getAll(wanted);
    if (values.length !== 1) throw new ComponentError(`@query-param ${wanted} must occur exactly once`);
    return encodeURIComponent(values[0]!);
  }
  if (params.size > 0) throw new ComponentError(`component parameters on ${name} are not supported`);
  switch (name) {
    case "@method":
      return message.method.toUpperCase();
    case "@authority":
      return authority;
    case "@scheme":
      return message.scheme.toLowerCase();
    case "@target-uri":
      return `${message.scheme.toLowerCase()}://${authority}${path}${query === "?" ? "" : query}`;
    case "@request-target":
      return message.target;
    case "@path":
      return path;
    case "@query":
      return query;
    default: {
      if (name.startsWith("@")) throw new ComponentError(`derived component ${name} is not supported in requests`);
      const value = header(message.headers, name);
      if (value === undefined) throw new ComponentError(`covered header ${name} is absent`);
      return value;
    }
  }
}

/** RFC 9421 §2.5: one line per covered component, then `"@signature-params": <inner list>`. */
export function signatureBase(input: InnerList, message: SignedMessage): string {
  const lines = input[0].map((component) => `${serializeItem(component)}: ${componentValue(component, message)}`);
  lines.push(`"@signature-params": ${serializeInnerList(input)}`);
  return lines.join("\n");
}
