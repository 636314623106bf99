import type { CommandEntry } from "./command.ts";

/** Every command of `tenge-gateway`. Features add their lines here; modules load lazily. */
export const commands: CommandEntry[] = [
  { words: ["start"], summary: "run the gateway (embedded stack by default)", load: () => import("./start.ts").then((m) => m.default) },
  { words: ["migrate"], summary: "apply pending database migrations and exit", load: () => import("./migrate.ts").then((m) => m.default) },
  { words: ["keys", "create"], summary: "register a principal and issue an API key or signing key", load: () => import("../identity/cli.ts").then((m) => m.create) },
  { words: ["keys", "list"], summary: "list principals and their credentials", load: () => import("../identity/cli.ts").then((m) => m.list) },
  { words: ["keys", "revoke"], summary: "revoke a credential or a whole principal", load: () => import("../identity/cli.ts").then((m) => m.revoke) },
  { words: ["iso", "validate"], summary: "validate ISO 20022 messages (safe XML, XSD, CBPR+); one JSON line per file", load: () => import("../iso20022/cli.ts").then((m) => m.validate) },
  { words: ["iso", "parse"], summary: "print the typed model of an ISO 20022 message as JSON", load: () => import("../iso20022/cli.ts").then((m) => m.parse) },
  { words: ["iso", "render"], summary: "print the XML of a message given as `iso parse` JSON", load: () => import("../iso20022/cli.ts").then((m) => m.render) },
  { words: ["exchanges", "create"], summary: "onboard a stablecoin exchange and issue its API key", load: () => import("../stablecoin/cli.ts").then((m) => m.create) },
  { words: ["exchanges", "list"], summary: "list stablecoin exchanges, limits and status", load: () => import("../stablecoin/cli.ts").then((m) => m.list) },
  { words: ["exchanges", "update"], summary: "change an exchange's status, limits or addresses", load: () => import("../stablecoin/cli.ts").then((m) => m.update) },
  { words: ["redemptions", "reroute"], summary: "pay a refused redemption to a corrected DT account (operator)", load: () => import("../stablecoin/cli.ts").then((m) => m.reroute) },
  { words: ["collateral", "verify"], summary: "verify the proof of collateral against the chain", load: () => import("../proof-of-collateral/cli.ts").then((m) => m.verify) },
  { words: ["dt-ledger", "serve"], summary: "run the embedded DT ledger as its own HTTP service", load: () => import("../dt-ledger/cli.ts").then((m) => m.serve) },
  { words: ["dt-ledger", "participants", "add"], summary: "register a DT ledger participant and its signing key", load: () => import("../dt-ledger/cli.ts").then((m) => m.addParticipant) },
  { words: ["dt-ledger", "participants", "list"], summary: "list the DT ledger's participants", load: () => import("../dt-ledger/cli.ts").then((m) => m.listParticipantsCommand) },
  { words: ["contracts", "deploy"], summary: "deploy the stablecoin and HTLC contracts to an EVM chain", load: () => import("../evm/contracts-cli.ts").then((m) => m.deploy) },
  { words: ["pvp", "create"], summary: "create a PvP on a running gateway (DT leg and foreign leg, hash-locked)", load: () => import("../pvp/cli.ts").then((m) => m.create) },
  { words: ["pvp", "show"], summary: "show a PvP: state, both legs, timeline of transitions and messages", load: () => import("../pvp/cli.ts").then((m) => m.show) },
  { words: ["pvp", "list"], summary: "list PvPs with filters (state, role, counterparty)", load: () => import("../pvp/cli.ts").then((m) => m.list) },
];
