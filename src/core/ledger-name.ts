/**
 * Which ledger a PvP leg is on, as a value: the DT ledger, a correspondent central bank's own gateway
 * (its ledger reached with ISO 20022 messages), or a ledger this gateway holds keys on (an EVM chain, a
 * securities ledger). Legs, standing terms and the API write it as a name (`dt`, `peer:<BIC>`, `evm`);
 * this module alone turns one into the other.
 */
export type LedgerKind =
  | { kind: "dt" }
  | { kind: "peer"; agent: string }
  | { kind: "held"; name: string };

/** The name of the DT ledger in a PvP's legs. */
export const DT_LEDGER = "dt";

const PEER_PREFIX = "peer:";

export function ledgerKindOf(name: string): LedgerKind {
  if (name === DT_LEDGER) return { kind: "dt" };
  if (name.startsWith(PEER_PREFIX)) return { kind: "peer", agent: name.slice(PEER_PREFIX.length) };
  return { kind: "held", name };
}

export function ledgerNameOf(ledger: LedgerKind): string {
  switch (ledger.kind) {
    case "dt":
      return DT_LEDGER;
    case "peer":
      return `${PEER_PREFIX}${ledger.agent}`;
    case "held":
      return ledger.name;
  }
}

/** The ledger name of the correspondent `agent`'s own gateway (`peer:<BIC>`). */
export function peerLedgerName(agent: string): string {
  return ledgerNameOf({ kind: "peer", agent });
}

/** The correspondent whose gateway carries legs on `name`, or undefined for any other ledger. */
export function peerAgentOf(name: string): string | undefined {
  const ledger = ledgerKindOf(name);
  return ledger.kind === "peer" ? ledger.agent : undefined;
}
