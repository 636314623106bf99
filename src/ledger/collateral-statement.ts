import { hashTypedData, recoverTypedDataAddress, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

/**
 * The DT ledger operator's signed statement of the segregated collateral wallet, as EIP-712 typed data.
 * The ledger signs it, the stablecoin contract verifies it before a mint (secure mint), and anyone can
 * verify it off chain. The domain binds it to one chain and one token contract, so a statement cannot be
 * replayed to back a second token with the same DT.
 *
 * balance is in tiyn (1 KZT = 100 tiyn); the token has 2 decimals, so one token unit is one tiyn.
 */
export interface CollateralStatement {
  /** DT digital account id of the segregated wallet. */
  account: string;
  /** Balance in tiyn. */
  balance: bigint;
  /**
   * Tiyn ever debited from the account (every debit of the segregated wallet pays a redemption); the token
   * takes redemptions not yet paid out by this height off the balance.
   */
  paidOut: bigint;
  /** DT ledger height the balance was read at; strictly increasing between accepted statements. */
  height: bigint;
  /** Unix time in seconds when the ledger signed. */
  timestamp: bigint;
}

export interface CollateralStatementDomain {
  chainId: number;
  /** The stablecoin token contract that accepts the statement. */
  verifyingContract: Address;
}

export const collateralStatementTypes = {
  CollateralStatement: [
    { name: "account", type: "string" },
    { name: "balance", type: "uint256" },
    { name: "paidOut", type: "uint256" },
    { name: "height", type: "uint256" },
    { name: "timestamp", type: "uint256" },
  ],
} as const;

export const COLLATERAL_DOMAIN_NAME = "Digital Tenge Collateral";
export const COLLATERAL_DOMAIN_VERSION = "1";

export function collateralDomain(domain: CollateralStatementDomain) {
  return {
    name: COLLATERAL_DOMAIN_NAME,
    version: COLLATERAL_DOMAIN_VERSION,
    chainId: domain.chainId,
    verifyingContract: domain.verifyingContract,
  } as const;
}

function typedData(statement: CollateralStatement, domain: CollateralStatementDomain) {
  return {
    domain: collateralDomain(domain),
    types: collateralStatementTypes,
    primaryType: "CollateralStatement",
    message: statement,
  } as const;
}

/** EIP-712 digest of a statement (what the signature covers). */
export function collateralStatementDigest(statement: CollateralStatement, domain: CollateralStatementDomain): Hex {
  return hashTypedData(typedData(statement, domain));
}

/** Signs with the ledger operator's secp256k1 key (the key never leaves this call). */
export function signCollateralStatement(
  privateKey: Hex,
  statement: CollateralStatement,
  domain: CollateralStatementDomain,
): Promise<Hex> {
  return privateKeyToAccount(privateKey).signTypedData(typedData(statement, domain));
}

/** The address that signed the statement (compare it with the ledger operator's published address). */
export function recoverCollateralStatementSigner(
  statement: CollateralStatement,
  domain: CollateralStatementDomain,
  signature: Hex,
): Promise<Address> {
  return recoverTypedDataAddress({ ...typedData(statement, domain), signature });
}
