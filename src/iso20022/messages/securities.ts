import { MessageStructureError } from "../message-structure-error.ts";
import { insertChild, optionalAmount, optionalGroup, optionalText, type Field } from "../model/fields.ts";
import { childElement, childElements, localName, type XmlElement } from "../xml/tree.ts";

/** The financial instrument (SecurityIdentification19): the ISIN, and a description. */
export const financialInstrumentShape = {
  isin: optionalText("ISIN"),
  description: optionalText("Desc"),
};

/**
 * One settlement party (PartyIdentificationAndAccount196/…): identified by BIC, with its securities account
 * and, for a tokenized security, the holding address on the chain (BlckChainAdrOrWllt).
 */
export const settlementPartyShape = {
  anyBic: optionalText("Id/AnyBIC"),
  lei: optionalText("LEI"),
  safekeepingAccount: optionalText("SfkpgAcct/Id"),
  holdingAddress: optionalText("BlckChainAdrOrWllt/Id"),
};

/** Delivering or receiving settlement parties: the depository (the CSD) and the party (the broker). */
export const settlementPartiesShape = {
  depositoryBic: optionalText("Dpstry/Id/AnyBIC"),
  party: optionalGroup("Pty1", settlementPartyShape),
};

/** An amount with its direction (AmountAndDirection94): the cash side of a DvP. */
export const amountAndDirectionShape = {
  amount: optionalAmount("Amt"),
  creditDebit: optionalText("CdtDbtInd"),
};

/**
 * The namespace of the gateway's DvP reference, carried in SplmtryData/Envlp: the schema's own extension
 * point (`xs:any`, lax), so the hash-lock travels without bending any ISO element's meaning.
 */
export const DVP_REFERENCE_NAMESPACE = "urn:tenge-gateway:xsd:dvp.reference.01";

/** What ties a settlement message to a hash-locked exchange: the DvP id, the hash-lock H and the lock's expiry. */
export interface DvpReference {
  dvpId: string;
  /** SHA-256 hash-lock, 64 lowercase hex characters. */
  hashLock: string;
  /** Expiry of the securities lock, ISO 8601 with offset. */
  expiresAt?: string;
}

const leaf = (name: string, text: string): XmlElement => ({ name, attributes: {}, children: [], text });

function isDvpReference(element: XmlElement): boolean {
  if (localName(element.name) !== "DvpRef") return false;
  const colon = element.name.indexOf(":");
  const declaration = colon < 0 ? "xmlns" : `xmlns:${element.name.slice(0, colon)}`;
  return element.attributes[declaration] === DVP_REFERENCE_NAMESPACE;
}

function referenceElements(parent: XmlElement): { supplementary: XmlElement; reference: XmlElement }[] {
  const found: { supplementary: XmlElement; reference: XmlElement }[] = [];
  for (const supplementary of childElements(parent, "SplmtryData")) {
    const envelope = childElement(supplementary, "Envlp");
    const reference = envelope?.children.find(isDvpReference);
    if (reference) found.push({ supplementary, reference });
  }
  return found;
}

/**
 * The DvP reference in the message's SplmtryData (its own namespace, declared on the element). Other
 * supplementary data is left alone; a second DvP reference or one without id or hash-lock is refused.
 */
export function dvpReference(): Field<DvpReference | undefined> {
  const read = (parent: XmlElement): DvpReference | undefined => {
    const found = referenceElements(parent);
    if (found.length === 0) return undefined;
    if (found.length > 1) throw new MessageStructureError("MESSAGE_STRUCTURE", "a message carries at most one DvP reference", "/SplmtryData");
    const reference = found[0]!.reference;
    const text = (name: string) => reference.children.find((child) => localName(child.name) === name)?.text;
    const dvpId = text("Id");
    const hashLock = text("HshLck");
    if (dvpId === undefined) throw new MessageStructureError("MESSAGE_FIELD_MISSING", "mandatory element SplmtryData/Envlp/DvpRef/Id is missing", "SplmtryData/Envlp/DvpRef/Id");
    if (hashLock === undefined) throw new MessageStructureError("MESSAGE_FIELD_MISSING", "mandatory element SplmtryData/Envlp/DvpRef/HshLck is missing", "SplmtryData/Envlp/DvpRef/HshLck");
    const expiresAt = text("XpryDtTm");
    return expiresAt === undefined ? { dvpId, hashLock } : { dvpId, hashLock, expiresAt };
  };
  return {
    read,
    write(target, value) {
      const current = read(target.element);
      if (current?.dvpId === value?.dvpId && current?.hashLock === value?.hashLock && current?.expiresAt === value?.expiresAt) return;
      for (const { supplementary } of referenceElements(target.element)) {
        target.element.children.splice(target.element.children.indexOf(supplementary), 1);
      }
      if (value === undefined) return;
      const supplementary = insertChild(target, "SplmtryData");
      insertChild(supplementary, "PlcAndNm").element.text = `/Document/${localName(target.element.name)}`;
      const envelope = insertChild(supplementary, "Envlp");
      const children = [leaf("Id", value.dvpId), leaf("HshLck", value.hashLock)];
      if (value.expiresAt !== undefined) children.push(leaf("XpryDtTm", value.expiresAt));
      envelope.element.children.push({ name: "DvpRef", attributes: { xmlns: DVP_REFERENCE_NAMESPACE }, children });
    },
    fromJson(value) {
      if (value === undefined || value === null) return undefined;
      const record = value as Record<string, unknown>;
      if (typeof record.dvpId !== "string" || typeof record.hashLock !== "string") {
        throw new MessageStructureError("MESSAGE_FIELD_MISSING", "a DvP reference needs dvpId and hashLock", "dvpReference");
      }
      return typeof record.expiresAt === "string"
        ? { dvpId: record.dvpId, hashLock: record.hashLock, expiresAt: record.expiresAt }
        : { dvpId: record.dvpId, hashLock: record.hashLock };
    },
  };
}
