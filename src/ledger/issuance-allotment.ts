import { hashTypedData, recoverTypedDataAddress, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

/**
 * The DT ledger operator's allotment of one collateral pool (the segregated wallet) to the chains whose
 * tokens issue against it, as EIP-712 typed data. Every token takes its own entry by (chain id, token) and
 * refuses a mint that would take what it ever issued (mints less minter burns) above its limit.
 *
 * Limits are cumulative and only rise, so a chain that holds an older allotment (withheld, relayed late,
 * reorganised away) can only issue less. Their sum is at most `credited + moved`, which the token checks
 * too: tiyn ever credited into the wallet (balance + paidOut) plus tiyn ever burned on one chain and allotted
 * to another. Redemptions need no counting here: a burn does not give its room back, and its payout leaves
 * `credited` as it is. See docs/contracts.md, "One pool, several chains".
 */
export interface ChainAllotment {
  chainId: bigint;
  /** The stablecoin contract on that chain. */
  token: Address;
  /** Tiyn the chain may ever issue, net of minter burns. */
  issuanceLimit: bigint;
}

export interface IssuanceAllotment {
  /** DT digital account id of the segregated wallet. */
  account: string;
  /** Strictly increasing between allotments of the pool. */
  sequence: bigint;
  /** Tiyn ever credited into the wallet other than returned: its unspent tokens (held ones too) + paidOut at `height`. */
  credited: bigint;
  /** Tiyn ever burned on one chain to move and allotted to the destination. */
  moved: bigint;
  /** DT ledger height the pool was read at. */
  height: bigint;
  /** Unix seconds when the ledger signed. */
  timestamp: bigint;
  /** One entry per chain, in strictly increasing chain id order. */
  chains: ChainAllotment[];
}

export const issuanceAllotmentTypes = {
  IssuanceAllotment: [
    { name: "account", type: "string" },
    { name: "sequence", type: "uint256" },
    { name: "credited", type: "uint256" },
    { name: "moved", type: "uint256" },
    { name: "height", type: "uint256" },
    { name: "timestamp", type: "uint256" },
    { name: "chains", type: "ChainAllotment[]" },
  ],
  ChainAllotment: [
    { name: "chainId", type: "uint256" },
    { name: "token", type: "address" },
    { name: "issuanceLimit", type: "uint256" },
  ],
} as const;

/** No chain id in the domain: one allotment covers every chain; the entries bind each chain. */
export const ISSUANCE_ALLOTMENT_DOMAIN = { name: "Digital Tenge Issuance Allotment", version: "1" } as const;

function typedData(allotment: IssuanceAllotment) {
  return {
    domain: ISSUANCE_ALLOTMENT_DOMAIN,
    types: issuanceAllotmentTypes,
    primaryType: "IssuanceAllotment",
    message: allotment,
  } as const;
}

/** EIP-712 digest of an allotment (what the signature covers). */
export function issuanceAllotmentDigest(allotment: IssuanceAllotment): Hex {
  return hashTypedData(typedData(allotment));
}

/** Signs with the ledger operator's secp256k1 key (the key never leaves this call). */
export function signIssuanceAllotment(privateKey: Hex, allotment: IssuanceAllotment): Promise<Hex> {
  return privateKeyToAccount(privateKey).signTypedData(typedData(allotment));
}

/** The address that signed the allotment (compare it with the token's `collateralSigner()`). */
export function recoverIssuanceAllotmentSigner(allotment: IssuanceAllotment, signature: Hex): Promise<Address> {
  return recoverTypedDataAddress({ ...typedData(allotment), signature });
}

/** Why the ledger refuses to sign a next allotment. */
export class AllotmentRefused extends Error {
  readonly code: "ALLOTMENT_EXCEEDS_POOL" | "ALLOTMENT_UNKNOWN_CHAIN" | "ALLOTMENT_INVALID";
  constructor(code: AllotmentRefused["code"], message: string) {
    super(message);
    this.name = "AllotmentRefused";
    this.code = code;
  }
}

/**
 * What changes the pool's allotment: DT credited into the wallet for a mint on one chain; a move whose burn
 * on `from` is final (past that chain's confirmations and reorganisation window), allotted to `to` or, as a
 * refund, back to `from` (exactly one of the two per move); a chain added with nothing allotted yet.
 */
export type AllotmentChange =
  | { kind: "credit"; chainId: bigint; amount: bigint; credited: bigint }
  | { kind: "move"; from: bigint; to: bigint; amount: bigint }
  | { kind: "addChain"; chainId: bigint; token: Address };

/**
 * The ledger operator's rule for the next allotment (pure): limits only rise, and their sum stays within
 * credited + moved. `credited` is the ledger's own figure (balance + paidOut now); a move is the servicer's
 * report of a final burn, checkable afterwards by anyone against the chains' `totalMovedOut()`.
 */
export function nextIssuanceAllotment(previous: IssuanceAllotment, change: AllotmentChange, at: { height: bigint; timestamp: bigint }): IssuanceAllotment {
  const chains = previous.chains.map((entry) => ({ ...entry }));
  const entry = (chainId: bigint) => {
    const found = chains.find((candidate) => candidate.chainId === chainId);
    if (!found) throw new AllotmentRefused("ALLOTMENT_UNKNOWN_CHAIN", `chain ${chainId} has no token in this pool`);
    return found;
  };
  let { credited, moved } = previous;
  switch (change.kind) {
    case "credit":
      if (change.amount <= 0n || change.credited < previous.credited) {
        throw new AllotmentRefused("ALLOTMENT_INVALID", "a credit must be positive and the credited total cannot fall");
      }
      entry(change.chainId).issuanceLimit += change.amount;
      credited = change.credited;
      break;
    case "move":
      // `to === from` is a refund: a move that cannot complete is given back on its source chain.
      if (change.amount <= 0n) throw new AllotmentRefused("ALLOTMENT_INVALID", "a move must be positive");
      entry(change.from);
      entry(change.to).issuanceLimit += change.amount;
      moved += change.amount;
      break;
    case "addChain":
      if (chains.some((candidate) => candidate.chainId === change.chainId)) {
        throw new AllotmentRefused("ALLOTMENT_INVALID", `chain ${change.chainId} is in the pool already`);
      }
      chains.push({ chainId: change.chainId, token: change.token, issuanceLimit: 0n });
      chains.sort((a, b) => (a.chainId < b.chainId ? -1 : a.chainId > b.chainId ? 1 : 0));
      break;
  }
  const limits = chains.reduce((sum, candidate) => sum + candidate.issuanceLimit, 0n);
  if (limits > credited + moved) {
    throw new AllotmentRefused("ALLOTMENT_EXCEEDS_POOL", `limits ${limits} exceed credited ${credited} + moved ${moved}`);
  }
  return { account: previous.account, sequence: previous.sequence + 1n, credited, moved, height: at.height, timestamp: at.timestamp, chains };
}
