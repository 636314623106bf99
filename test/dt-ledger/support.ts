import { createHash, randomBytes } from "node:crypto";
import type { Hex } from "viem";
import { DtLedger } from "../../src/dt-ledger/ledger.ts";
import { dtLedgerMigrations } from "../../src/dt-ledger/schema.ts";
import type { ParticipantRole } from "../../src/dt-ledger/participants.ts";
import { migrate } from "../../src/persistence/migrations.ts";
import type { Database } from "../../src/persistence/database.ts";

/** A clock the tests move by hand, so expiries are exact and no test sleeps. */
export class TestClock {
  private current: number;
  constructor(start = Date.parse("2026-03-02T09:00:00Z")) {
    this.current = start;
  }
  now = (): Date => new Date(this.current);
  advance(ms: number): void {
    this.current += ms;
  }
}

// A fixed, well-known test key (Hardhat's first account); never used outside tests.
export const OPERATOR_KEY: Hex = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

export const NBK = "NBRKKZKX";
export const BANK_A = "HSBKKZKX";
export const BANK_B = "KCJBKZKX";
export const TREASURY = "KKMFKZ2A";
export const GATEWAY = "TENGEGW";

export const PARTICIPANTS: { id: string; name: string; role: ParticipantRole }[] = [
  { id: NBK, name: "National Bank of Kazakhstan", role: "central_bank" },
  { id: BANK_A, name: "Halyk Bank", role: "bank" },
  { id: BANK_B, name: "Bank CenterCredit", role: "bank" },
  { id: TREASURY, name: "Treasury Committee", role: "treasury" },
  { id: GATEWAY, name: "Tenge Gateway", role: "gateway" },
];

export async function migratedLedger(db: Database, clock: TestClock): Promise<DtLedger> {
  await migrate(db, [dtLedgerMigrations]);
  return new DtLedger({ db, operatorKey: OPERATOR_KEY, now: clock.now });
}

export const key = (): string => randomBytes(8).toString("hex");

export function newSecret(): { preimage: Hex; hashLock: Hex } {
  const secret = randomBytes(32);
  return { preimage: `0x${secret.toString("hex")}`, hashLock: `0x${createHash("sha256").update(secret).digest("hex")}` };
}
