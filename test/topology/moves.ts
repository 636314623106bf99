/**
 * Moves of the stablecoin between the topology's two chains, judged from the chains themselves: the
 * MovedOut log on the source and the gateway's Mint logs on the target (the destination, or the source for
 * a refund), matched by recipient and amount (each move of the run has an amount no other mint has).
 */
import { createPublicClient, http, parseEventLogs, type Address, type Hex } from "viem";
import { tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import type { Chain } from "./platform.ts";

/** A move as the run made it: `moveOut` on `from`, by the holder, to `recipient` on `to`. */
export interface MadeMove {
  txHash: Hex;
  holder: Address;
  amount: bigint;
  from: Chain;
  to: Chain;
  recipient: Address;
  /** Refunded on `from` (to the holder), not minted on `to`. */
  expectRefund: boolean;
}

export interface MoveVerdict {
  move: MadeMove;
  /** The MovedOut log the transaction emitted on the source. */
  burned: boolean;
  /** Gateway mints of the amount to the recipient on the destination. */
  mintedOnDestination: number;
  /** Gateway mints of the amount back to the holder on the source. */
  mintedBack: number;
  /** moved: minted once on the destination, never back; refunded: the other way round. */
  outcome: "moved" | "refunded" | "unfinished" | "violation";
}

/** Every Mint log of the token by minter, recipient and amount. */
async function mintLogs(chain: Chain, minter: Address) {
  const client = createPublicClient({ transport: http(chain.rpcUrl) });
  const logs = await client.getLogs({ address: chain.token, fromBlock: chain.tokenBlock, toBlock: "latest" });
  return parseEventLogs({ abi: tengeStablecoinAbi, logs, eventName: "Mint" }).filter((log) => log.args.minter.toLowerCase() === minter.toLowerCase());
}

/** Reads each move's burn and mints from the chains and says what happened to it. */
export async function moveVerdicts(moves: MadeMove[], minters: Map<number, Address>): Promise<MoveVerdict[]> {
  const mints = new Map<number, Awaited<ReturnType<typeof mintLogs>>>();
  for (const chain of new Set(moves.flatMap((move) => [move.from, move.to]))) mints.set(chain.chainId, await mintLogs(chain, minters.get(chain.chainId)!));
  const verdicts: MoveVerdict[] = [];
  for (const move of moves) {
    const client = createPublicClient({ transport: http(move.from.rpcUrl) });
    const receipt = await client.getTransactionReceipt({ hash: move.txHash });
    const burned = parseEventLogs({ abi: tengeStablecoinAbi, logs: receipt.logs, eventName: "MovedOut" }).some(
      (log) => log.address.toLowerCase() === move.from.token.toLowerCase() && log.args.amount === move.amount && log.args.destinationChainId === BigInt(move.to.chainId),
    );
    const count = (chain: Chain, to: Address) => mints.get(chain.chainId)!.filter((log) => log.args.to.toLowerCase() === to.toLowerCase() && log.args.amount === move.amount).length;
    const mintedOnDestination = count(move.to, move.recipient);
    const mintedBack = count(move.from, move.holder);
    const outcome =
      !burned || mintedOnDestination + mintedBack > 1 ? "violation"
      : mintedOnDestination === 1 ? "moved"
      : mintedBack === 1 ? "refunded"
      : "unfinished";
    verdicts.push({ move, burned, mintedOnDestination, mintedBack, outcome });
  }
  return verdicts;
}
