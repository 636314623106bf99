import type { Address } from "viem";
import { ed25519PrivateKey, ed25519RawPublicKey, generateEd25519 } from "../identity/http-signature.ts";
import type { AccountKind } from "../ledger/dt-ledger-port.ts";
import type { DtLedger } from "./ledger.ts";
import type { ParticipantRole } from "./participants.ts";

export interface DemoParticipant {
  id: string;
  name: string;
  role: ParticipantRole;
  /** Ed25519 seed (hex) that signs this participant's HTTP requests. Demo only: keep it secret elsewhere. */
  signingSeed: string;
  publicKey: string;
}

export interface DemoAccount {
  id: string;
  participantId: string;
  kind: AccountKind;
  holderName: string;
  balance: bigint;
}

export interface DemoLedger {
  participants: Record<"nbk" | "halyk" | "centerCredit" | "treasury" | "gateway", DemoParticipant>;
  accounts: Record<"aigerim" | "daniyar" | "coffeeShop" | "kase" | "altynExchange" | "ministry" | "segregatedWallet", DemoAccount>;
  operatorAddress: Address | undefined;
}

const PARTICIPANTS = {
  nbk: { id: "NBRKKZKX", name: "National Bank of Kazakhstan", role: "central_bank" },
  halyk: { id: "HSBKKZKX", name: "Halyk Bank", role: "bank" },
  centerCredit: { id: "KCJBKZKX", name: "Bank CenterCredit", role: "bank" },
  treasury: { id: "KKMFKZ2A", name: "Treasury Committee of the Ministry of Finance", role: "treasury" },
  gateway: { id: "TENGEGW", name: "Tenge Gateway", role: "gateway" },
} as const;

// Balances in tiyn: 250 000.00 KZT is 25 000 000 tiyn.
const ACCOUNTS = {
  aigerim: { by: "halyk", kind: "individual", holderName: "Aigerim Nurlanovna", balance: 25_000_000n },
  daniyar: { by: "centerCredit", kind: "individual", holderName: "Daniyar Seitkali", balance: 10_000_000n },
  coffeeShop: { by: "halyk", kind: "legal_entity", holderName: "Astana Coffee LLP", balance: 100_000_000n },
  kase: { by: "halyk", kind: "exchange", holderName: "Kazakhstan Stock Exchange", balance: 500_000_000n },
  altynExchange: { by: "centerCredit", kind: "exchange", holderName: "Altyn Digital Exchange JSC", balance: 200_000_000n },
  ministry: { by: "treasury", kind: "government_agency", holderName: "Ministry of Digital Development", balance: 1_000_000_000n },
  segregatedWallet: { by: "gateway", kind: "segregated_wallet", holderName: "Tenge Gateway collateral wallet", balance: 0n },
} as const;

/**
 * Seeds the demo DT platform: the NBK, two banks, the Treasury and the gateway as participants, with
 * customers' accounts (individuals, a merchant, two exchanges, a ministry) and the gateway's segregated
 * wallet, funded by NBK issuance. Idempotent: run again with the same seeds, it changes nothing.
 * Pass the seeds from an earlier run to keep the participants' keys.
 */
export async function seedDemoLedger(ledger: DtLedger, seeds: Partial<Record<string, string>> = {}): Promise<DemoLedger> {
  const participants = {} as Record<keyof typeof PARTICIPANTS, DemoParticipant>;
  for (const [name, participant] of Object.entries(PARTICIPANTS) as [keyof typeof PARTICIPANTS, (typeof PARTICIPANTS)[keyof typeof PARTICIPANTS]][]) {
    const seed = seeds[participant.id] ? new Uint8Array(Buffer.from(seeds[participant.id]!, "hex")) : generateEd25519().seed;
    const publicKey = ed25519RawPublicKey(ed25519PrivateKey(seed));
    await ledger.registerParticipant({ ...participant, publicKey });
    participants[name] = {
      ...participant,
      signingSeed: Buffer.from(seed).toString("hex"),
      publicKey: Buffer.from(publicKey).toString("hex"),
    };
  }
  const accounts = {} as Record<keyof typeof ACCOUNTS, DemoAccount>;
  for (const [name, spec] of Object.entries(ACCOUNTS) as [keyof typeof ACCOUNTS, (typeof ACCOUNTS)[keyof typeof ACCOUNTS]][]) {
    const participantId = PARTICIPANTS[spec.by].id;
    const account = await ledger.openAccount(participantId, { idempotencyKey: `demo:open:${name}`, kind: spec.kind, holderName: spec.holderName });
    if (spec.balance > 0n) {
      await ledger.issue(PARTICIPANTS.nbk.id, { idempotencyKey: `demo:issue:${name}`, accountId: account.id, amount: spec.balance, reference: "demo conversion" });
    }
    accounts[name] = { id: account.id, participantId, kind: spec.kind, holderName: spec.holderName, balance: spec.balance };
  }
  return { participants, accounts, operatorAddress: ledger.operatorAddress };
}
