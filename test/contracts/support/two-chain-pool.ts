import { generatePrivateKey } from "viem/accounts";
import type { Address, Hex } from "viem";
import {
  nextIssuanceAllotment,
  signIssuanceAllotment,
  type AllotmentChange,
  type IssuanceAllotment,
} from "../../../src/ledger/issuance-allotment.ts";
import { confirmed, createTestChain, type TestChain } from "./chain.ts";
import { deployStablecoin, SEGREGATED_ACCOUNT, type StablecoinFixture } from "./stablecoin.ts";

export const CHAIN_A = 31337;
export const CHAIN_B = 31338;

/** Two in-process chains with different chain ids and one collateral signer for both tokens. */
export async function createTwoChains() {
  const signerKey = generatePrivateKey();
  const a = await createTestChain({ chainId: CHAIN_A });
  const b = await createTestChain({ chainId: CHAIN_B });
  return { signerKey, chains: [a, b] as const };
}

/** The token on `chain`, optionally with issuance allotments required (the multi-chain design). */
export async function deployPoolToken(chain: TestChain, signerKey: Hex, allotments: boolean): Promise<StablecoinFixture> {
  const token = await deployStablecoin(chain, { signerKey });
  if (allotments) await confirmed(chain, token.token.write.requireIssuanceAllotments());
  return token;
}

/** The first allotment of a pool: every chain at zero. */
export function genesisAllotment(tokens: ReadonlyArray<{ chainId: number; address: Address }>): IssuanceAllotment {
  return {
    account: SEGREGATED_ACCOUNT,
    sequence: 0n,
    credited: 0n,
    moved: 0n,
    height: 0n,
    timestamp: 0n,
    chains: tokens.map((token) => ({ chainId: BigInt(token.chainId), token: token.address, issuanceLimit: 0n })),
  };
}

/** Applies the ledger's rule and signs the result. */
export async function allot(signerKey: Hex, previous: IssuanceAllotment, change: AllotmentChange, at: { height: bigint; timestamp: bigint }) {
  const message = nextIssuanceAllotment(previous, change, at);
  return { message, signature: await signIssuanceAllotment(signerKey, message) };
}
