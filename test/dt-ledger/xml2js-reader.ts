import { parseStringPromise } from "xml2js";

/** An independent XML reader for cross-checks: xml2js shares no code with the gateway's reader. */
export function parseXml(xml: string): Promise<unknown> {
  return parseStringPromise(xml, { explicitArray: false });
}
