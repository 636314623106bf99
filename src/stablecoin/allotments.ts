import { getAddress, type Address } from "viem";
import { CodedError } from "../core/errors.ts";
import type { SignedIssuanceAllotment } from "../ledger/dt-ledger-port.ts";
import type { StablecoinLedger } from "./stablecoin-ledger.ts";

/** The one reference a chain joins the pool under: a restart, a second process or a retry adds it once. */
export const chainReference = (chainId: number, token: Address): string => `chain:${chainId}:${getAddress(token)}`;

/** The pool already has this chain with another token: the settings name a different deployment than the ledger's book. */
export class PoolChainMismatch extends CodedError<"POOL_CHAIN_TOKEN_MISMATCH"> {
  constructor(chainId: number, configured: Address, pooled: Address) {
    super(
      "POOL_CHAIN_TOKEN_MISMATCH",
      `chain ${chainId}: the settings name token ${configured}, the DT ledger's issuance allotment has ${pooled}; ` +
        "fix STABLECOIN_CHAINS (a chain's token cannot be changed in the pool)",
      { chainId, configured, pooled },
    );
  }
}

/**
 * Puts a configured chain into the segregated wallet's pool at a limit of zero (`addChain`), unless the latest
 * allotment already has it: what the stablecoin component calls for each chain on start. Idempotent by its
 * reference, so a crash between the ledger's answer and the next step, or two processes starting at once,
 * add it once. Returns the allotment that has the chain (the caller relays it).
 */
export async function registerPoolChain(
  ledger: Pick<StablecoinLedger, "issuanceAllotment" | "latestIssuanceAllotment">,
  chain: { segregatedAccount: string; chainId: number; token: Address },
): Promise<{ added: boolean; allotment: SignedIssuanceAllotment }> {
  const token = getAddress(chain.token);
  const latest = await ledger.latestIssuanceAllotment(chain.segregatedAccount);
  const entry = latest?.allotment.chains.find((candidate) => candidate.chainId === BigInt(chain.chainId));
  if (latest && entry) {
    if (getAddress(entry.token) !== token) throw new PoolChainMismatch(chain.chainId, token, getAddress(entry.token));
    return { added: false, allotment: latest };
  }
  const allotment = await ledger.issuanceAllotment({
    accountId: chain.segregatedAccount,
    reference: chainReference(chain.chainId, token),
    change: { kind: "addChain", chainId: BigInt(chain.chainId), token },
  });
  return { added: true, allotment };
}

/**
 * On start: adds every configured chain whose token requires allotments to the pool (in the order given).
 * A token that does not is the single-chain design and needs nothing of the DT ledger's allotments, so a
 * single-chain deployment never asks the ledger for them. Returns the chain ids added now.
 */
export async function registerPoolChains(
  ledger: Pick<StablecoinLedger, "issuanceAllotment" | "latestIssuanceAllotment">,
  segregatedAccount: string,
  chains: ReadonlyArray<{ chainId: number; token: Address; issuance(): Promise<{ required: boolean }> }>,
): Promise<number[]> {
  const added: number[] = [];
  for (const chain of chains) {
    if (!(await chain.issuance()).required) continue;
    const result = await registerPoolChain(ledger, { segregatedAccount, chainId: chain.chainId, token: chain.token });
    if (result.added) added.push(chain.chainId);
  }
  return added;
}
