import { createPublicClient, encodeFunctionData, getAddress, http, type Address, type Hex, type PublicClient, type TransactionReceipt } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { chainAt } from "../evm/evm-chain.ts";
import { feesOfSigned, marketFees, replacementFees, type Fees } from "../evm/fees.ts";
import { tengeStablecoinAbi } from "../evm/generated/contracts.ts";
import { broadcastSigned, receiptOf, signCall, type SignedTransaction } from "../evm/signed-transaction.ts";
import type { CollateralStatement } from "../ledger/collateral-statement.ts";
import type { IssuanceAllotment } from "../ledger/issuance-allotment.ts";

export interface TokenChainOptions {
  rpcUrl: string;
  token: Address;
  /** The minter's key: signs mint transactions; never logged. Absent on read-only gateways. */
  minterKey?: Hex;
  /** Gas limit of a mint transaction (fixed, so signing needs no estimate that could revert). */
  mintGasLimit?: bigint;
  /** Poll interval of the RPC client. */
  pollingIntervalMs?: number;
}

/** The token's side of the pool (docs/contracts.md, "One pool, several chains"). */
export interface ChainIssuance {
  /** Tiyn ever issued on this chain: mints less minter burns (redemptions and moves do not give it back). */
  issued: bigint;
  /** This chain's limit in the latest allotment the token accepted (0 before the first). */
  issuanceLimit: bigint;
  /** That allotment's sequence (0 before the first): relay only a higher one. */
  sequence: bigint;
  /** Whether mints need `issued + amount <= issuanceLimit` (requireIssuanceAllotments, one-way). */
  required: boolean;
}

/**
 * Gas limit of `submitIssuanceAllotment`, fixed so that signing needs no estimate: calldata and hashing grow
 * with the entries (three words each). Measured on EDR: 54,645 for two chains, 71,745 the first ever.
 */
export function allotmentGasLimit(allotment: IssuanceAllotment): bigint {
  return 90_000n + 15_000n * BigInt(allotment.chains.length);
}

/** A Redeemed log as the chain reported it. */
export interface RedeemedLog {
  txHash: Hex;
  logIndex: number;
  blockNumber: bigint;
  blockHash: Hex;
  holder: Address;
  amount: bigint;
  dtAccount: string;
}

/** A MovedOut log (`moveOut`) as the chain reported it. */
export interface MovedOutLog {
  txHash: Hex;
  logIndex: number;
  blockNumber: bigint;
  blockHash: Hex;
  holder: Address;
  amount: bigint;
  destinationChainId: bigint;
  recipient: Address;
}

/**
 * The stablecoin token on its chain, as the mint and redeem flows use it: reads at a block, the
 * minter's offline-signed transactions (mints and allotment relays: signed first, recorded, then sent),
 * receipts and Redeemed logs.
 */
export class TokenChain {
  readonly client: PublicClient;
  readonly token: Address;
  readonly chainId: number;
  readonly #minter: PrivateKeyAccount | undefined;
  readonly #gasLimit: bigint;

  private constructor(client: PublicClient, token: Address, chainId: number, minter: PrivateKeyAccount | undefined, gasLimit: bigint) {
    this.client = client;
    this.token = token;
    this.chainId = chainId;
    this.#minter = minter;
    this.#gasLimit = gasLimit;
  }

  static async connect(options: TokenChainOptions): Promise<TokenChain> {
    const chain = await chainAt(options.rpcUrl);
    const client = createPublicClient({ chain, transport: http(options.rpcUrl), pollingInterval: options.pollingIntervalMs ?? 250 });
    const minter = options.minterKey ? privateKeyToAccount(options.minterKey) : undefined;
    return new TokenChain(client as PublicClient, getAddress(options.token), chain.id, minter, options.mintGasLimit ?? 400_000n);
  }

  get minterAddress(): Address {
    if (!this.#minter) throw new Error("no minter key configured (STABLECOIN_MINTER_KEY)");
    return this.#minter.address;
  }

  head(): Promise<bigint> {
    return this.client.getBlockNumber({ cacheTime: 0 });
  }

  /** The newest block: number, hash and time (what an attestation pins the supply to). */
  async latestBlock(): Promise<{ number: bigint; hash: Hex; timestamp: bigint }> {
    const block = await this.client.getBlock({ blockTag: "latest" });
    return { number: block.number, hash: block.hash, timestamp: block.timestamp };
  }

  async totalSupply(blockNumber?: bigint): Promise<bigint> {
    return this.client.readContract({ address: this.token, abi: tengeStablecoinAbi, functionName: "totalSupply", ...(blockNumber === undefined ? {} : { blockNumber }) });
  }

  /** The latest statement the token accepted: collateral, DT ledger height and timestamp. */
  async acceptedStatement(): Promise<{ balance: bigint; height: bigint; timestamp: bigint }> {
    const [balance, height, timestamp] = await this.client.readContract({
      address: this.token,
      abi: tengeStablecoinAbi,
      functionName: "latestCollateralStatement",
    });
    return { balance, height, timestamp };
  }

  async maxStatementAge(): Promise<bigint> {
    return this.client.readContract({ address: this.token, abi: tengeStablecoinAbi, functionName: "maxStatementAge" });
  }

  async collateralSigner(): Promise<Address> {
    return this.client.readContract({ address: this.token, abi: tengeStablecoinAbi, functionName: "collateralSigner" });
  }

  /** What the minter may still mint, in tiyn (the master minter sets it with configureMinter). */
  async minterAllowance(): Promise<bigint> {
    return this.client.readContract({ address: this.token, abi: tengeStablecoinAbi, functionName: "minterAllowance", args: [this.minterAddress] });
  }

  /** The minter's transaction count: mined only (`latest`) or with its pending transactions. */
  nonce(blockTag: "latest" | "pending"): Promise<number> {
    return this.client.getTransactionCount({ address: this.minterAddress, blockTag });
  }

  fees(): Promise<Fees> {
    return marketFees(this.client);
  }

  /** Fees for a transaction that replaces the stuck one under the same nonce (the one fee-bump policy). */
  async replacementFees(stuckRaw: Hex): Promise<Fees> {
    return replacementFees(await this.fees(), feesOfSigned(stuckRaw));
  }

  /**
   * Signs (does not send) a mint of `amount` tiyn to `to`: with the statement when one is given
   * (`mintWithCollateralStatement`, statement and mint in one transaction), else a plain `mint` that relies
   * on the statement an earlier transaction of this minter puts on chain first.
   */
  async signMint(parameters: {
    to: Address;
    amount: bigint;
    nonce: bigint;
    fees: Fees;
    statement?: { statement: CollateralStatement; signature: Hex };
    /** A re-mint: reverses this redemption (`reverseRedemption`, which needs the statement) instead of a plain mint. */
    reversal?: { redemptionId: Hex };
  }): Promise<SignedTransaction> {
    if (!this.#minter) throw new Error("no minter key configured (STABLECOIN_MINTER_KEY)");
    if (parameters.reversal && !parameters.statement) throw new Error("a reversal carries a collateral statement");
    const data = parameters.reversal && parameters.statement
      ? encodeFunctionData({
          abi: tengeStablecoinAbi,
          functionName: "reverseRedemption",
          args: [parameters.statement.statement, parameters.statement.signature, parameters.reversal.redemptionId, parameters.to, parameters.amount],
        })
      : parameters.statement
      ? encodeFunctionData({
          abi: tengeStablecoinAbi,
          functionName: "mintWithCollateralStatement",
          args: [parameters.statement.statement, parameters.statement.signature, parameters.to, parameters.amount],
        })
      : encodeFunctionData({ abi: tengeStablecoinAbi, functionName: "mint", args: [parameters.to, parameters.amount] });
    return signCall(this.#minter, { chainId: this.chainId, call: { to: this.token, data, gas: this.#gasLimit }, nonce: parameters.nonce, fees: parameters.fees });
  }

  /** The token's issuance against its allotment, at a block (default the latest), so it can be read beside the supply. */
  async issuance(blockNumber?: bigint): Promise<ChainIssuance> {
    const [issued, issuanceLimit, sequence, required] = await this.client.readContract({
      address: this.token,
      abi: tengeStablecoinAbi,
      functionName: "issuance",
      ...(blockNumber === undefined ? {} : { blockNumber }),
    });
    return { issued, issuanceLimit, sequence, required };
  }

  /** Tiyn ever burned here by `moveOut` (anyone compares it with the allotments' `moved`). */
  async totalMovedOut(blockNumber?: bigint): Promise<bigint> {
    return this.client.readContract({ address: this.token, abi: tengeStablecoinAbi, functionName: "totalMovedOut", ...(blockNumber === undefined ? {} : { blockNumber }) });
  }

  /**
   * Signs (does not send) `submitIssuanceAllotment(allotment, signature)` with the minter's key, under a
   * nonce the caller takes from the minter's nonce row like a mint's, records, then broadcasts. Anyone may
   * submit an allotment; the minter does because its nonces are already kept exactly once.
   */
  async signSubmitIssuanceAllotment(parameters: { allotment: IssuanceAllotment; signature: Hex; nonce: bigint; fees: Fees }): Promise<SignedTransaction> {
    if (!this.#minter) throw new Error("no minter key configured (STABLECOIN_MINTER_KEY)");
    const data = encodeFunctionData({ abi: tengeStablecoinAbi, functionName: "submitIssuanceAllotment", args: [parameters.allotment, parameters.signature] });
    const call = { to: this.token, data, gas: allotmentGasLimit(parameters.allotment) };
    return signCall(this.#minter, { chainId: this.chainId, call, nonce: parameters.nonce, fees: parameters.fees });
  }

  /** Sends a signed transaction; sending the same bytes again is harmless. */
  broadcast(raw: Hex): Promise<void> {
    return broadcastSigned(this.client, raw);
  }

  receipt(hash: Hex): Promise<TransactionReceipt | undefined> {
    return receiptOf(this.client, hash);
  }

  async blockHash(blockNumber: bigint): Promise<Hex | undefined> {
    try {
      const block = await this.client.getBlock({ blockNumber });
      return block.hash ?? undefined;
    } catch {
      return undefined;
    }
  }

  async redeemedLogs(fromBlock: bigint, toBlock: bigint): Promise<RedeemedLog[]> {
    const logs = await this.client.getContractEvents({
      address: this.token,
      abi: tengeStablecoinAbi,
      eventName: "Redeemed",
      fromBlock,
      toBlock,
      strict: true,
    });
    return logs.map((log) => ({
      ...logPosition(log),
      holder: getAddress(log.args.holder),
      amount: log.args.amount,
      dtAccount: log.args.dtAccount,
    }));
  }

  /** The token's MovedOut logs (burns to move to another chain of the pool) in the block range. */
  async movedOutLogs(fromBlock: bigint, toBlock: bigint): Promise<MovedOutLog[]> {
    const logs = await this.client.getContractEvents({
      address: this.token,
      abi: tengeStablecoinAbi,
      eventName: "MovedOut",
      fromBlock,
      toBlock,
      strict: true,
    });
    return logs.map((log) => ({
      ...logPosition(log),
      holder: getAddress(log.args.holder),
      amount: log.args.amount,
      destinationChainId: log.args.destinationChainId,
      recipient: getAddress(log.args.recipient),
    }));
  }

  /** Whether the token refuses `account` (a mint to it would revert). */
  isBlocklisted(account: Address): Promise<boolean> {
    return this.client.readContract({ address: this.token, abi: tengeStablecoinAbi, functionName: "isBlocklisted", args: [account] });
  }
}

/** Where a log sits: the key a redemption or a move is recorded by, and the block its reorganisation check compares. */
function logPosition(log: { transactionHash: Hex; logIndex: number; blockNumber: bigint; blockHash: Hex }) {
  return { txHash: log.transactionHash, logIndex: log.logIndex, blockNumber: log.blockNumber, blockHash: log.blockHash };
}
