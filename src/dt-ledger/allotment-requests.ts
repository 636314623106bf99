import { getAddress, isAddress, zeroAddress } from "viem";
import {
  ALLOTMENT_REFERENCE_MAX,
  DtLedgerError,
  type IssuanceAllotmentChange,
  type IssuanceAllotmentRequest,
} from "../ledger/dt-ledger-port.ts";

/** Printable ASCII without spaces: `mint:<id>`, `move:<id>`, `chain:<chainId>:<token>`. */
const REFERENCE = new RegExp(`^[\\x21-\\x7e]{1,${ALLOTMENT_REFERENCE_MAX}}$`);
// Chain ids are JS numbers in the settings and the APIs; a larger one could never be configured.
const MAX_CHAIN_ID = BigInt(Number.MAX_SAFE_INTEGER);
// Tiyn amounts are int8 in the ledger; one change is below what the ledger could ever hold.
const MAX_AMOUNT = 2n ** 62n;

const invalid = (message: string) => new DtLedgerError("INVALID_REQUEST", message);

function chainId(value: unknown, field: string): bigint {
  if (typeof value !== "bigint" || value <= 0n || value > MAX_CHAIN_ID) throw invalid(`${field} must be a chain id from 1 to ${MAX_CHAIN_ID}`);
  return value;
}

function amount(value: unknown): bigint {
  if (typeof value !== "bigint" || value <= 0n || value >= MAX_AMOUNT) {
    throw new DtLedgerError("INVALID_AMOUNT", "change.amount must be a positive whole number of tiyn");
  }
  return value;
}

/**
 * An allotment request as the ledger takes it, whatever the caller sent (in process or parsed from JSON):
 * the reference bounded, the change one of the three kinds with valid chain ids and amounts, and a token as
 * its checksummed address, so that a replay spelling it in other letter case is the same change.
 */
export function requireAllotmentRequest(request: unknown): IssuanceAllotmentRequest {
  const { accountId, reference, change } = (typeof request === "object" && request !== null ? request : {}) as Record<string, unknown>;
  if (typeof accountId !== "string" || accountId === "") throw invalid("accountId is required");
  if (typeof reference !== "string" || !REFERENCE.test(reference)) {
    throw invalid(`reference must be 1 to ${ALLOTMENT_REFERENCE_MAX} printable characters without spaces`);
  }
  const fields = (typeof change === "object" && change !== null ? change : {}) as Record<string, unknown>;
  let checked: IssuanceAllotmentChange;
  switch (fields["kind"]) {
    case "credit":
      checked = { kind: "credit", chainId: chainId(fields["chainId"], "change.chainId"), amount: amount(fields["amount"]) };
      break;
    case "move":
      checked = { kind: "move", from: chainId(fields["from"], "change.from"), to: chainId(fields["to"], "change.to"), amount: amount(fields["amount"]) };
      break;
    case "addChain": {
      const token = fields["token"];
      if (typeof token !== "string" || !isAddress(token, { strict: false }) || token.toLowerCase() === zeroAddress) {
        throw invalid("change.token must be the token's 0x address");
      }
      checked = { kind: "addChain", chainId: chainId(fields["chainId"], "change.chainId"), token: getAddress(token) };
      break;
    }
    default:
      throw invalid('change.kind must be "credit", "move" or "addChain"');
  }
  return { accountId, reference, change: checked };
}
