import type { DtLedger } from "../dt-ledger/ledger.ts";
import type { IdentityStore } from "../identity/store.ts";

/** The demo brokers of the embedded stack: BICs of fictional exchange members, their DT banks, their holdings' chain accounts. */
export const DEMO_BROKERS = {
  seller: { id: "demo-broker-seller", bic: "BRKSKZKA", name: "Demo selling broker", participant: "HSBKKZKX" },
  buyer: { id: "demo-broker-buyer", bic: "BRKBKZKA", name: "Demo buying broker", participant: "KCJBKZKX" },
} as const;

/** The buying broker's opening cash on DT: 5,000,000.00 KZT. */
const BUYER_CASH_TIYN = 500_000_000n;

export interface DemoBrokerCredentials {
  principal: string;
  apiKey: string;
  bic: string;
  holding: string;
  cashAccount: string;
}

/**
 * Seeds the DvP demo: the two brokers as principals bound to their BIC and DT bank, a digital account each
 * (the buyer's funded by NBK issuance), and each broker's holding of the demo bond registered to it on
 * the `securities` ledger, so each may deliver or receive only there. API keys of an earlier start are kept.
 */
export async function seedDemoBrokers(
  identity: IdentityStore,
  dtLedger: DtLedger,
  options: { nbk: string; ledger: string; holdings: { seller: string; buyer: string }; previousApiKeys?: Partial<Record<"seller" | "buyer", string | undefined>> },
): Promise<Record<"seller" | "buyer", DemoBrokerCredentials>> {
  const result = {} as Record<"seller" | "buyer", DemoBrokerCredentials>;
  for (const side of ["seller", "buyer"] as const) {
    const broker = DEMO_BROKERS[side];
    const principal = await identity.createPrincipal("broker", broker.name, broker.id, { bic: broker.bic, dtParticipant: broker.participant });
    const previous = options.previousApiKeys?.[side];
    const apiKey = previous
      ? (await identity.importApiKey(principal, previous, "demo broker, kept per DATA_DIR"), previous)
      : (await identity.issueApiKey(principal, "created by the embedded start")).apiKey;
    const account = await dtLedger.openAccount(broker.participant, { idempotencyKey: `demo:open:broker-${side}`, kind: "legal_entity", holderName: broker.name });
    if (side === "buyer") await dtLedger.issue(options.nbk, { idempotencyKey: "demo:issue:broker-buyer", accountId: account.id, amount: BUYER_CASH_TIYN, reference: "demo conversion" });
    await identity.registerLedgerAccount(broker.bic, options.ledger, options.holdings[side]);
    result[side] = { principal, apiKey, bic: broker.bic, holding: options.holdings[side], cashAccount: account.id };
  }
  return result;
}
