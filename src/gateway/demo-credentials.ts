import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const FILE = "demo-credentials.json";
const API_KEY = /^tgk_[a-f0-9]{16}_[A-Za-z0-9_-]{43}$/;
const SEED = /^[0-9a-f]{64}$/;

/** The secrets of the previous embedded start, registered again so the credentials file keeps working. */
export interface PreviousDemoCredentials {
  operatorApiKey: string | undefined;
  exchangeApiKey: string | undefined;
  bankApiKey: string | undefined;
  /** The DvP demo brokers' API keys. */
  brokerApiKeys: { seller: string | undefined; buyer: string | undefined };
  /** DT ledger participant seeds (hex) by participant id. */
  participantSeeds: Record<string, string>;
  foreignSigningSeed: Uint8Array | undefined;
  /** The demo second correspondent's Ed25519 seed (section `correspondent`). */
  correspondentSigningSeed: Uint8Array | undefined;
}

/**
 * Reads DATA_DIR/demo-credentials.json of an earlier start. Anything missing or malformed is generated
 * anew (the file is the demo's only copy of its keys: delete it to get new ones).
 */
export function previousDemoCredentials(dataDir: string): PreviousDemoCredentials {
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(readFileSync(join(dataDir, FILE), "utf8"));
    if (typeof value === "object" && value !== null) parsed = value as Record<string, unknown>;
  } catch {
    // First start, or a file that is not JSON: new keys.
  }
  const field = (section: string, ...path: string[]): unknown =>
    path.reduce<unknown>((value, key) => (typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined), parsed[section]);
  const matching = (value: unknown, pattern: RegExp) => (typeof value === "string" && pattern.test(value) ? value : undefined);
  const participantSeeds: Record<string, string> = {};
  const participants = field("dtLedger", "participants");
  if (typeof participants === "object" && participants !== null) {
    for (const participant of Object.values(participants as Record<string, unknown>)) {
      const { id, signingSeed } = (participant ?? {}) as { id?: unknown; signingSeed?: unknown };
      if (typeof id === "string" && matching(signingSeed, SEED)) participantSeeds[id] = signingSeed as string;
    }
  }
  const foreignSeed = matching(field("peerPvp", "foreignCentralBank", "signingSeed"), SEED);
  const correspondentSeed = matching(field("correspondent", "signingSeed"), SEED);
  return {
    operatorApiKey: matching(field("operator", "apiKey"), API_KEY),
    exchangeApiKey: matching(field("exchange", "apiKey"), API_KEY),
    bankApiKey: matching(field("bank", "apiKey"), API_KEY),
    brokerApiKeys: { seller: matching(field("dvp", "sellingBroker", "apiKey"), API_KEY), buyer: matching(field("dvp", "buyingBroker", "apiKey"), API_KEY) },
    participantSeeds,
    foreignSigningSeed: foreignSeed ? new Uint8Array(Buffer.from(foreignSeed, "hex")) : undefined,
    correspondentSigningSeed: correspondentSeed ? new Uint8Array(Buffer.from(correspondentSeed, "hex")) : undefined,
  };
}

/** Demo secrets go to a file only the owner can read, never to the log. */
export function writeDemoCredentials(dataDir: string, credentials: Record<string, unknown>): string {
  mkdirSync(dataDir, { recursive: true });
  const file = resolve(join(dataDir, FILE));
  const text = JSON.stringify(credentials, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value), 2);
  writeFileSync(file, `${text}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}
