/**
 * Who a message in an exchange's log went to or came from: a correspondent or a bank by its BIC, a bank
 * principal without one (its notices stay with this gateway), or the beneficiary's account of a credit
 * notice. The log's column and the API write it as one name (`HSBKKZKX`, `bank:<principal>`,
 * `beneficiary:<account>`); this module alone turns one into the other. A BIC never holds a colon.
 */
export type MessageCounterparty =
  | { kind: "agent"; bic: string }
  | { kind: "bank"; principal: string }
  | { kind: "beneficiary"; account: string };

export const agentCounterparty = (bic: string): MessageCounterparty => ({ kind: "agent", bic });

export function counterpartyName(counterparty: MessageCounterparty): string {
  switch (counterparty.kind) {
    case "agent":
      return counterparty.bic;
    case "bank":
      return `bank:${counterparty.principal}`;
    case "beneficiary":
      return `beneficiary:${counterparty.account}`;
  }
}

export function counterpartyOfName(name: string): MessageCounterparty {
  const colon = name.indexOf(":");
  const rest = name.slice(colon + 1);
  if (colon > 0 && name.slice(0, colon) === "bank") return { kind: "bank", principal: rest };
  if (colon > 0 && name.slice(0, colon) === "beneficiary") return { kind: "beneficiary", account: rest };
  return { kind: "agent", bic: name };
}

/** Whether the message went to or came from the institution with this BIC. */
export function isAgent(counterparty: MessageCounterparty, bic: string | undefined): boolean {
  return counterparty.kind === "agent" && counterparty.bic === bic;
}
