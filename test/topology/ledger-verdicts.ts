/**
 * What the ledgers themselves show about each PvP, never the gateways' records: the DT platform's event
 * log read as the NBK (which sees every hold) and the HTLC contract's logs on the chain, both keyed by the
 * PvP's SHA-256 hash-lock, which is all the two legs share.
 */
import { createPublicClient, http, parseEventLogs, type Address, type Hex } from "viem";
import { hashTimeLockAbi } from "../../src/evm/generated/contracts.ts";
import type { DtLedgerPort } from "../../src/ledger/dt-ledger-port.ts";

/** The legs of one ledger by hash-lock. */
export type LedgerView = Map<string, LegOutcome>;

export type LegOutcome = "absent" | "locked" | "paid" | "refunded";

export interface PvpVerdict {
  hashLock: Hex;
  dt: LegOutcome;
  foreign: LegOutcome;
  /** settled: both legs paid; refunded: neither paid, nothing locked; violation: one paid, the other never will be. */
  outcome: "settled" | "refunded" | "unfinished" | "violation";
}

/** Every hold on the DT platform by hash-lock, with its last status. */
export async function dtLegOutcomes(nbk: DtLedgerPort): Promise<LedgerView> {
  const outcomes = new Map<string, LegOutcome>();
  let after: string | undefined;
  for (;;) {
    const page = await nbk.events({ ...(after ? { after } : {}), limit: 500 });
    for (const event of page.events) {
      if (event.type !== "hold_created" && event.type !== "hold_released" && event.type !== "hold_refunded") continue;
      if (!("hashLock" in event.hold.condition)) continue;
      const key = event.hold.condition.hashLock.toLowerCase();
      outcomes.set(key, event.type === "hold_created" ? "locked" : event.type === "hold_released" ? "paid" : "refunded");
    }
    if (page.events.length === 0 || page.cursor === after) return outcomes;
    after = page.cursor;
  }
}

/** Every HTLC swap on the chain by hash-lock, with its last status. */
export async function evmLegOutcomes(rpcUrl: string, htlc: Address): Promise<LedgerView> {
  const client = createPublicClient({ transport: http(rpcUrl) });
  const logs = await client.getLogs({ address: htlc, fromBlock: 0n, toBlock: "latest" });
  const outcomes = new Map<string, LegOutcome>();
  for (const log of parseEventLogs({ abi: hashTimeLockAbi, logs })) {
    const args = log.args as { hashLock?: Hex };
    if (!args.hashLock) continue;
    const key = args.hashLock.toLowerCase();
    if (log.eventName === "Locked") outcomes.set(key, "locked");
    if (log.eventName === "Claimed") outcomes.set(key, "paid");
    if (log.eventName === "Refunded") outcomes.set(key, "refunded");
  }
  return outcomes;
}

/** Both legs of a PvP as two ledgers show them (`dt`: the initiator's own leg, `foreign`: the other). */
export function verdictOf(hashLock: Hex, dtLedger: LedgerView, foreignLedger: LedgerView): PvpVerdict {
  const dt = dtLedger.get(hashLock.toLowerCase()) ?? "absent";
  const foreign = foreignLedger.get(hashLock.toLowerCase()) ?? "absent";
  const paid = [dt, foreign].filter((leg) => leg === "paid").length;
  // One leg paid while the other can no longer be (refunded, or never locked) breaks atomicity.
  const outcome =
    paid === 2 ? "settled" : paid === 1 && dt !== "locked" && foreign !== "locked" ? "violation" : dt === "locked" || foreign === "locked" ? "unfinished" : "refunded";
  return { hashLock, dt, foreign, outcome };
}
