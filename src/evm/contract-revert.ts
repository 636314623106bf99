import { BaseError, ContractFunctionRevertedError } from "viem";

/** The custom error a contract call reverted with (e.g. `SwapExpired`); undefined for any other failure. */
export function contractRevertName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((cause) => cause instanceof ContractFunctionRevertedError);
  return reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : undefined;
}
