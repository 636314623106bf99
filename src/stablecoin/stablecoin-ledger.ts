import type { DtLedgerPort } from "../ledger/dt-ledger-port.ts";

/** What the stablecoin flows need from the DT ledger port: the intake account, payments, events, collateral statements and issuance allotments. */
export type StablecoinLedger = Pick<
  DtLedgerPort,
  "openAccount" | "transfer" | "events" | "collateralStatement" | "issuanceAllotment" | "latestIssuanceAllotment"
>;

/**
 * A simulated crash: tests pass a `faults` hook that throws this at a named point, inside the step's
 * database transaction, so the step's effects outside the database (a sent transaction, a DT payment)
 * happen while its state change is rolled back, exactly as when the process dies there.
 */
export class SimulatedCrash extends Error {
  override name = "SimulatedCrash";
}

/** Named points where a test may crash a flow (see SimulatedCrash). */
export type FaultPoint =
  | "deposit.before-commit"
  | "mint.allot.after-credit"
  | "mint.allot.before-commit"
  | "mint.allot.after-send"
  | "mint.sign.after-statement"
  | "mint.sign.before-commit"
  | "mint.broadcast.after-send"
  | "mint.confirm.before-commit"
  | "redeem.scan.before-commit"
  | "redeem.confirm.before-commit"
  | "redeem.pay.after-transfer"
  | "move.scan.before-commit"
  | "move.confirm.before-commit"
  | "move.allot.after-allotment"
  | "move.allot.before-commit"
  | "move.settle.before-commit";

export type Faults = (point: FaultPoint) => void;
