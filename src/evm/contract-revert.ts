import { BaseError, ContractFunctionRevertedError, decodeErrorResult, type Abi, type Hex } from "viem";

/** The custom error a contract call reverted with (e.g. `SwapExpired`); undefined for any other failure. */
export function contractRevertName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((cause) => cause instanceof ContractFunctionRevertedError);
  return reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : undefined;
}

/** A contract's custom error with its arguments. */
export interface ContractRevert {
  name: string;
  args: readonly unknown[];
}

/**
 * The custom error of a revert, from a typed contract call (viem decoded it) or a raw `eth_call` /
 * transaction (only the revert data: decoded here with `abi`). Undefined when the failure is no revert
 * (the node unreachable, a timeout) or its data matches no error of `abi`.
 */
export function contractRevert(error: unknown, abi: Abi): ContractRevert | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((cause) => cause instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) {
    return { name: reverted.data.errorName, args: (reverted.data.args ?? []) as readonly unknown[] };
  }
  const withData = error.walk((cause) => typeof (cause as { data?: unknown }).data === "string");
  const data = (withData as { data?: Hex } | null)?.data;
  if (!data || data.length < 10) return undefined;
  try {
    const decoded = decodeErrorResult({ abi, data });
    return { name: decoded.errorName, args: (decoded.args ?? []) as readonly unknown[] };
  } catch {
    return undefined;
  }
}
