import { inProcessDtLedger } from "../../src/dt-ledger/in-process-adapter.ts";
import { createTestDatabase } from "../support/database.ts";
import { dtLedgerPortContract } from "./port-contract.ts";
import { migratedLedger, PARTICIPANTS, TestClock } from "./support.ts";

dtLedgerPortContract("in-process", async () => {
  const database = await createTestDatabase();
  const clock = new TestClock();
  const ledger = await migratedLedger(database.db, clock);
  for (const participant of PARTICIPANTS) await ledger.registerParticipant(participant);
  return {
    ledger,
    clock,
    portFor: (participantId) => inProcessDtLedger(ledger, participantId),
    close: () => database.drop(),
  };
});
