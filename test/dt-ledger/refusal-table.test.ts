import { describe, expect, it } from "vitest";
import { DT_LEDGER_ERROR_CODES, DT_REFUSAL_IS_PERMANENT, DtLedgerError, isPermanentDtRefusal, type DtLedgerPort } from "../../src/ledger/dt-ledger-port.ts";
import { LegError, type LegInstruction } from "../../src/pvp/leg-port.ts";
import { dtLedgerLeg } from "../../src/pvp/legs/dt-ledger-leg.ts";

/** The DT ledger port's one table of permanent refusals, and the PvP leg reading its permanence from it. */
describe("DT ledger refusals: permanent or retried, decided once", () => {
  it("has an entry for every code the port defines, and nothing else", () => {
    expect(Object.keys(DT_REFUSAL_IS_PERMANENT).sort()).toEqual([...DT_LEDGER_ERROR_CODES].sort());
  });

  it("names wrong requests permanent and passing trouble retried", () => {
    for (const code of ["INSUFFICIENT_FUNDS", "UNKNOWN_ACCOUNT", "ACCOUNT_CLOSED", "FORBIDDEN_ACCOUNT", "IDEMPOTENCY_CONFLICT", "WRONG_PREIMAGE", "HOLD_EXPIRED"] as const) {
      expect(isPermanentDtRefusal(new DtLedgerError(code, "x")), code).toBe(true);
    }
    for (const code of ["UNAVAILABLE", "UNAUTHENTICATED", "NOT_YET_EXPIRED", "UNKNOWN_HOLD", "DOUBLE_SPEND"] as const) {
      expect(isPermanentDtRefusal(new DtLedgerError(code, "x")), code).toBe(false);
    }
    // A network failure is not a refusal: retried.
    expect(isPermanentDtRefusal(new TypeError("fetch failed"))).toBe(false);
  });

  it.each(DT_LEDGER_ERROR_CODES)("the PvP's DT leg ends or retries a lock refused %s as the table says", async (code) => {
    const port = { hold: async () => Promise.reject(new DtLedgerError(code, "refused")) } as unknown as DtLedgerPort;
    const terms = { ledger: "dt", payer: "DA-1", beneficiary: "DA-2", amount: 100n, currency: "KZT", hashLock: `0x${"ab".repeat(32)}` as const, expiresAt: new Date() };
    const leg: LegInstruction = { key: "pvp1:dt", pvpId: "pvp1", side: "dt", terms, reference: undefined, pvp: { id: "pvp1", uetr: "u", role: "initiator", dtLeg: terms, foreignLeg: { ...terms, ledger: "evm" } } as LegInstruction["pvp"] };
    const refusal = await dtLedgerLeg({ port }).lock(leg).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(LegError);
    expect((refusal as LegError).permanent).toBe(DT_REFUSAL_IS_PERMANENT[code]);
  });
});
