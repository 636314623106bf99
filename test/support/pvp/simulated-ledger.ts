import { createHash } from "node:crypto";
import type { Hex } from "viem";
import { LegError, type HashLockedLegPort, type LedgerAsset, type LegInstruction, type LegLockReceipt, type LegObservation, type LegStatus } from "../../../src/pvp/leg-port.ts";

interface SimulatedLock {
  reference: string;
  payer: string;
  beneficiary: string;
  amount: bigint;
  hashLock: Hex;
  expiresAt: number;
  status: LegStatus;
  preimage?: Hex;
}

/**
 * An in-memory hash-lock ledger with its own clock, for fast fault-injection runs: the same rules as the
 * DT ledger holds and the HTLC contract (exact 32-byte preimage, claim before expiry, refund from expiry,
 * idempotent by leg key), plus switches to take it down or skew its clock. It passes the same leg-port
 * contract as the real legs (test/pvp/leg-contract/), so the runs that use it stand on a tested double.
 */
export class SimulatedLedger implements HashLockedLegPort {
  readonly ledger: string;
  readonly assets: readonly LedgerAsset[] | undefined;
  readonly balances = new Map<string, bigint>();
  readonly locks = new Map<string, SimulatedLock>();
  down = false;
  skewMs = 0;
  allowsEarlyRefund: boolean;
  private readonly clock: () => number;

  constructor(ledger: string, clock: () => number, options: { allowsEarlyRefund?: boolean; asset?: LedgerAsset } = {}) {
    this.ledger = ledger;
    this.assets = options.asset ? [options.asset] : undefined;
    this.clock = clock;
    this.allowsEarlyRefund = options.allowsEarlyRefund ?? true;
  }

  fund(account: string, amount: bigint): void {
    this.balances.set(account, (this.balances.get(account) ?? 0n) + amount);
  }

  balance(account: string): bigint {
    return this.balances.get(account) ?? 0n;
  }

  private time(): number {
    return this.clock() + this.skewMs;
  }

  private available(): void {
    if (this.down) throw new LegError("UNAVAILABLE", `${this.ledger} is down`);
  }

  lockOf(leg: LegInstruction): SimulatedLock | undefined {
    return this.locks.get(leg.key);
  }

  async lock(leg: LegInstruction): Promise<LegLockReceipt> {
    this.available();
    const existing = this.locks.get(leg.key);
    if (existing) return { reference: existing.reference };
    const terms = leg.terms;
    if (terms.expiresAt.getTime() <= this.time()) throw new LegError("REJECTED", "expiry is not in the future", { permanent: true });
    if (this.balance(terms.payer) < terms.amount) throw new LegError("INSUFFICIENT_FUNDS", "payer balance too low");
    this.balances.set(terms.payer, this.balance(terms.payer) - terms.amount);
    const reference = `${this.ledger}-${this.locks.size + 1}`;
    this.locks.set(leg.key, {
      reference,
      payer: terms.payer,
      beneficiary: terms.beneficiary,
      amount: terms.amount,
      hashLock: terms.hashLock,
      expiresAt: terms.expiresAt.getTime(),
      status: "locked",
    });
    return { reference };
  }

  async claim(leg: LegInstruction, preimage: Hex): Promise<void> {
    this.available();
    const lock = this.locks.get(leg.key);
    if (!lock) throw new LegError("UNAVAILABLE", "no such lock yet");
    if (lock.status === "claimed") return;
    if (lock.status === "refunded") throw new LegError("EXPIRED", "the lock was refunded", { permanent: true });
    if (this.time() >= lock.expiresAt) throw new LegError("EXPIRED", "the lock has expired", { permanent: true });
    const bytes = Buffer.from(preimage.slice(2), "hex");
    const hash = `0x${createHash("sha256").update(bytes).digest("hex")}`;
    if (bytes.length !== 32 || hash !== lock.hashLock) throw new LegError("WRONG_PREIMAGE", "preimage does not match", { permanent: true });
    lock.status = "claimed";
    lock.preimage = preimage;
    this.fund(lock.beneficiary, lock.amount);
  }

  async refund(leg: LegInstruction, options: { early: boolean }): Promise<void> {
    this.available();
    const lock = this.locks.get(leg.key);
    if (!lock) {
      // Nothing was locked: a refund of nothing is done once no lock can land any more.
      if (this.time() >= leg.terms.expiresAt.getTime()) return;
      throw new LegError("NOT_YET_EXPIRED", "nothing locked yet; a lock may still land");
    }
    if (lock.status !== "locked") return;
    if (this.time() < lock.expiresAt && !(options.early && this.allowsEarlyRefund)) throw new LegError("NOT_YET_EXPIRED", "not expired");
    lock.status = "refunded";
    this.fund(lock.payer, lock.amount);
  }

  async observe(leg: LegInstruction): Promise<LegObservation> {
    this.available();
    const lock = this.locks.get(leg.key);
    if (!lock) return { status: "absent" };
    const observation: LegObservation = { status: lock.status };
    if (lock.preimage) observation.preimage = lock.preimage;
    if (lock.hashLock !== leg.terms.hashLock || lock.amount !== leg.terms.amount) observation.termsMismatch = true;
    return observation;
  }

  async now(): Promise<Date> {
    this.available();
    return new Date(this.time());
  }
}
