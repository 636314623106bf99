import type { Hex } from "viem";
import { CodedError } from "../core/errors.ts";

/** A transaction was mined but reverted; `what` names the step (e.g. `deployment`). */
export class TransactionRevertedError extends CodedError<"TRANSACTION_REVERTED"> {
  constructor(hash: Hex, what?: string) {
    super("TRANSACTION_REVERTED", `${what ? `${what} ` : ""}transaction ${hash} reverted`, { hash });
  }
}
