import { encodeFunctionData, erc20Abi, getAddress, maxUint256, type Address, type Hex } from "viem";
import { demoForeignCbdcAbi } from "../../evm/generated/contracts.ts";
import type { HashTimeLockTerms } from "../../evm/hash-time-lock.ts";
import type { EvmTransactionSenderOptions } from "../../evm/transaction-sender.ts";
import { LegError, type HashLockedLegPort, type LedgerAsset, type LegInstruction, type LegLockReceipt, type LegObservation } from "../leg-port.ts";
import { HashTimeLockLeg } from "./hash-time-lock-leg.ts";

export interface EvmHtlcLegOptions {
  /** Ledger name in PvP legs (default `evm`). */
  ledger?: string;
  rpcUrl: string;
  hashTimeLock: Address;
  /** The foreign CBDC's ERC-20 for legs in `currency` (with `unitsPerMinor`). */
  token?: Address;
  /** ISO 4217 code of the currency `token` stands for. */
  currency?: string;
  /** The ERC-20 of each currency and its base units per minor unit of that currency. */
  tokens?: Record<string, { address: Address; unitsPerMinor: bigint }>;
  /** Keys of the payers this gateway locks for (their addresses are leg payers); the first also submits claims and refunds. */
  signerKeys: Hex[];
  /** Token base units per minor unit of the leg's currency (1 when the token has the currency's decimals). */
  unitsPerMinor?: bigint;
  confirmations?: number;
  /** First block to search for Claimed events (the HTLC's deployment block). */
  fromBlock?: bigint;
  sender?: Omit<EvmTransactionSenderOptions, "rpcUrl" | "privateKey" | "confirmations">;
}

/**
 * A PvP leg on an EVM chain: the foreign CBDC as an ERC-20 locked in the HashTimeLock contract (the
 * contract's part is hash-time-lock-leg.ts). Before a payer's first lock it checks the payer's balance and
 * gives the contract an allowance; later locks go straight to the contract (a short balance is then the
 * token's ERC20InsufficientBalance, the same INSUFFICIENT_FUNDS). Expiries are judged by chain time.
 */
export class EvmHtlcLeg implements HashLockedLegPort {
  readonly ledger: string;
  /** The currencies this ledger carries; legs in any other currency, or with other decimals, are refused. */
  readonly assets: readonly LedgerAsset[];
  private readonly options: EvmHtlcLegOptions;
  private readonly core: HashTimeLockLeg;
  private readonly approved = new Set<Address>();

  private constructor(options: EvmHtlcLegOptions, core: HashTimeLockLeg, assets: LedgerAsset[]) {
    this.options = options;
    this.assets = assets;
    this.ledger = options.ledger ?? "evm";
    this.core = core;
  }

  static async connect(options: EvmHtlcLegOptions): Promise<EvmHtlcLeg> {
    if (options.signerKeys.length === 0) throw new Error("the EVM leg needs at least one signer key");
    const ledger = options.ledger ?? "evm";
    const tokens = tokensOf(options);
    const core = await HashTimeLockLeg.connect(options, {
      noun: "swap",
      termsOf: (leg) => termsOf(ledger, tokens, leg),
      // The demo CBDC is an OpenZeppelin ERC-20: its errors are the standard ones.
      tokenAbi: demoForeignCbdcAbi,
      tokenRefusal: (revert) => (revert.name === "ERC20InsufficientBalance" ? new LegError("INSUFFICIENT_FUNDS", "the payer holds less than the leg's amount") : undefined),
    });
    const assets = await Promise.all(
      Object.entries(tokens).map(async ([currency, token]) => {
        // The leg's minor unit is unitsPerMinor token base units: its decimals are the token's less those.
        const tokenDecimals = await core.client.readContract({ address: token.address, abi: erc20Abi, functionName: "decimals" });
        const scale = token.unitsPerMinor.toString();
        if (!/^10*$/.test(scale)) throw new Error(`unitsPerMinor of ${currency} must be a power of ten`);
        return { currency, decimals: Number(tokenDecimals) - (scale.length - 1) };
      }),
    );
    return new EvmHtlcLeg(options, core, assets);
  }

  referenceOf(leg: LegInstruction): string {
    return this.core.referenceOf(leg);
  }

  lock(leg: LegInstruction): Promise<LegLockReceipt> {
    return this.core.lock(leg, async (terms, sender) => {
      const client = this.core.client;
      const balance = await client.readContract({ address: terms.token, abi: erc20Abi, functionName: "balanceOf", args: [terms.sender] });
      if (balance < terms.amount) throw new LegError("INSUFFICIENT_FUNDS", `payer holds ${balance} < ${terms.amount}`);
      const allowance = await client.readContract({ address: terms.token, abi: erc20Abi, functionName: "allowance", args: [terms.sender, this.options.hashTimeLock] });
      if (allowance < terms.amount) {
        await sender.send({ to: terms.token, data: encodeFunctionData({ abi: erc20Abi, functionName: "approve", args: [this.options.hashTimeLock, maxUint256] }) });
      }
      this.approved.add(terms.sender);
    }, (terms) => this.approved.has(terms.sender));
  }

  claim(leg: LegInstruction, preimage: Hex): Promise<void> {
    return this.core.claim(leg, preimage);
  }

  refund(leg: LegInstruction, _options?: { early: boolean }): Promise<void> {
    return this.core.refund(leg);
  }

  observe(leg: LegInstruction): Promise<LegObservation> {
    return this.core.observe(leg);
  }

  now(): Promise<Date> {
    return this.core.now();
  }
}

/** The contract terms of a leg: its currency's token, the amount in token base units. */
function termsOf(ledger: string, tokens: Record<string, { address: Address; unitsPerMinor: bigint }>, leg: LegInstruction): HashTimeLockTerms {
  const token = tokens[leg.terms.currency];
  if (!token) throw new LegError("REJECTED", `no token for ${leg.terms.currency} on ${ledger}`, { permanent: true });
  return {
    sender: getAddress(leg.terms.payer),
    receiver: getAddress(leg.terms.beneficiary),
    token: token.address,
    amount: leg.terms.amount * token.unitsPerMinor,
    hashLock: leg.terms.hashLock,
    expiry: BigInt(Math.floor(leg.terms.expiresAt.getTime() / 1000)),
  };
}

/** The token of each currency: `tokens`, plus `token` for `currency` when given. */
function tokensOf(options: EvmHtlcLegOptions): Record<string, { address: Address; unitsPerMinor: bigint }> {
  const tokens = { ...options.tokens };
  if (options.token) {
    if (!options.currency) throw new Error("an EVM leg's token needs the currency it stands for");
    tokens[options.currency] ??= { address: options.token, unitsPerMinor: options.unitsPerMinor ?? 1n };
  }
  return tokens;
}
