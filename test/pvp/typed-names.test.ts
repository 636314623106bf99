import { describe, expect, it } from "vitest";
import { ledgerKindOf, ledgerNameOf, peerAgentOf, peerLedgerName } from "../../src/core/ledger-name.ts";
import { counterpartyName, counterpartyOfName, isAgent, type MessageCounterparty } from "../../src/pvp/message-counterparty.ts";

describe("ledger names as values", () => {
  it("reads the DT ledger, a correspondent's gateway and a ledger we hold keys on, and writes each back as named", () => {
    expect(ledgerKindOf("dt")).toEqual({ kind: "dt" });
    expect(ledgerKindOf("peer:FCBKAEAD")).toEqual({ kind: "peer", agent: "FCBKAEAD" });
    expect(ledgerKindOf("evm")).toEqual({ kind: "held", name: "evm" });
    for (const name of ["dt", "peer:FCBKAEAD", "evm", "securities"]) expect(ledgerNameOf(ledgerKindOf(name))).toBe(name);
    expect(peerLedgerName("FCBKAEAD")).toBe("peer:FCBKAEAD");
    expect(peerAgentOf("peer:FCBKAEAD")).toBe("FCBKAEAD");
    expect(peerAgentOf("evm")).toBeUndefined();
    expect(peerAgentOf("dt")).toBeUndefined();
  });
});

describe("message counterparties as values", () => {
  it("keeps a BIC, a bank principal and a beneficiary's account apart, and writes each as the log names it", () => {
    const cases: Array<[MessageCounterparty, string]> = [
      [{ kind: "agent", bic: "HSBKKZKX" }, "HSBKKZKX"],
      [{ kind: "bank", principal: "prn_1" }, "bank:prn_1"],
      [{ kind: "beneficiary", account: "DA-2:x" }, "beneficiary:DA-2:x"],
    ];
    for (const [value, name] of cases) {
      expect(counterpartyName(value)).toBe(name);
      expect(counterpartyOfName(name)).toEqual(value);
    }
    expect(isAgent({ kind: "agent", bic: "HSBKKZKX" }, "HSBKKZKX")).toBe(true);
    expect(isAgent({ kind: "bank", principal: "HSBKKZKX" }, "HSBKKZKX")).toBe(false);
    expect(isAgent({ kind: "agent", bic: "HSBKKZKX" }, undefined)).toBe(false);
  });
});
