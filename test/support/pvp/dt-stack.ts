import type { Database } from "../../../src/persistence/database.ts";
import { migrate } from "../../../src/persistence/migrations.ts";
import { seedDemoLedger, type DemoLedger } from "../../../src/dt-ledger/demo.ts";
import { inProcessDtLedger } from "../../../src/dt-ledger/in-process-adapter.ts";
import { DtLedger } from "../../../src/dt-ledger/ledger.ts";
import { dtLedgerMigrations } from "../../../src/dt-ledger/schema.ts";
import type { DtLedgerPort } from "../../../src/ledger/dt-ledger-port.ts";

export interface DtStack {
  ledger: DtLedger;
  /** The port as the gateway participant sees it. */
  port: DtLedgerPort;
  demo: DemoLedger;
  available(accountId: string): Promise<bigint>;
}

/** The embedded DT ledger on the test database, seeded with the demo participants and accounts. */
export async function startDtStack(db: Database, now: () => Date): Promise<DtStack> {
  await migrate(db, [dtLedgerMigrations]);
  const ledger = new DtLedger({ db, now });
  const demo = await seedDemoLedger(ledger);
  const port = inProcessDtLedger(ledger, demo.participants.gateway.id);
  // Balances are read as the NBK, which may read every account.
  const nbk = inProcessDtLedger(ledger, demo.participants.nbk.id);
  return { ledger, port, demo, available: async (accountId) => (await nbk.balance(accountId)).available };
}
