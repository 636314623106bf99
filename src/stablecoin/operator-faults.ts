import type { Address } from "viem";
import { chainFaultOf } from "../evm/operator-faults.ts";
import { DtLedgerError } from "../ledger/dt-ledger-port.ts";
import type { WorkerFault } from "../server/worker-faults.ts";
import { AllotmentRelayRefused } from "./allotment-relay.ts";

/** The operator-fixable reason a stablecoin worker step failed, with the fix; undefined for anything else. */
export function stablecoinFaultOf(error: unknown, context: { minter: Address | undefined; rpcUrl: string }): WorkerFault | undefined {
  if (error instanceof DtLedgerError && /no operator key/.test(error.message)) {
    return { code: "STATEMENT_SIGNER_MISSING", reason: "the DT ledger signs no collateral statements: start dt-ledger serve with DT_LEDGER_OPERATOR_KEY_FILE" };
  }
  if (error instanceof DtLedgerError && error.code === "UNAVAILABLE" && /unreachable/.test(error.message)) {
    // The message names the URL, the cause and the fix (src/dt-ledger/http/client-adapter.ts).
    return { code: "DT_LEDGER_UNREACHABLE", reason: error.message };
  }
  if (error instanceof AllotmentRelayRefused) return { code: "ALLOTMENT_REFUSED", reason: error.message };
  switch (chainFaultOf(error)) {
    case "NO_GAS":
      return { code: "NO_GAS", reason: `the minter ${context.minter ?? ""} has too little native currency for gas: fund it` };
    case "MINTER_ALLOWANCE_SPENT":
      return { code: "MINTER_ALLOWANCE_SPENT", reason: `the minter ${context.minter ?? ""} has spent its mint allowance: the master minter raises it (configureMinter)` };
    case "RPC_UNREACHABLE":
      return { code: "RPC_UNREACHABLE", reason: `the EVM node at ${context.rpcUrl} does not answer: start it or fix STABLECOIN_RPC_URL` };
    default:
      return undefined;
  }
}
