import { BaseError, HttpRequestError, InsufficientFundsError } from "viem";

/** Reasons a chain call fails that an operator fixes outside the software: fund a key, raise an allowance, start a node. */
export type ChainFault = "NO_GAS" | "MINTER_ALLOWANCE_SPENT" | "RPC_UNREACHABLE";

/**
 * The fault behind a failed chain call, or undefined for any other failure. Nodes word "no gas" differently
 * (geth: "insufficient funds", Hardhat/EDR: "Sender doesn't have enough funds"), so the text is read too.
 */
export function chainFaultOf(error: unknown): ChainFault | undefined {
  const text = messagesOf(error);
  if (error instanceof BaseError && error.walk((cause) => cause instanceof InsufficientFundsError)) return "NO_GAS";
  if (/insufficient funds|doesn't have enough funds|does not have enough funds/i.test(text)) return "NO_GAS";
  if (/MinterAllowanceExceeded|exceeds minter allowance/i.test(text)) return "MINTER_ALLOWANCE_SPENT";
  if (error instanceof BaseError && error.walk((cause) => cause instanceof HttpRequestError)) return "RPC_UNREACHABLE";
  if (/ECONNREFUSED|ENOTFOUND|fetch failed|socket hang up/i.test(text)) return "RPC_UNREACHABLE";
  return undefined;
}

function messagesOf(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 10; depth++) {
    const record = current as { message?: unknown; details?: unknown; shortMessage?: unknown; cause?: unknown; code?: unknown };
    for (const field of [record.message, record.details, record.shortMessage, record.code]) if (typeof field === "string") parts.push(field);
    current = record.cause;
  }
  return parts.join(" | ");
}
