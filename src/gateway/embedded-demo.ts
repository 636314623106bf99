import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Hex } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { ConfigError, type GatewayConfig } from "../config/config.ts";
import { publishedKeySet } from "../correspondents/published-keys.ts";
import { correspondentStore } from "../correspondents/store.ts";
import { termsStore } from "../correspondents/terms.ts";
import { seedDemoBrokers } from "../dvp/demo.ts";
import { DEMO_BOND } from "../evm/deploy-security.ts";
import { ed25519PrivateKey, ed25519RawPublicKey, generateEd25519 } from "../identity/http-signature.ts";
import type { IdentityStore } from "../identity/store.ts";
import type { Database } from "../persistence/database.ts";
import { DataDirectoryInUseError, lockDirectory } from "../persistence/pglite.ts";
import type { Logger } from "../server/logger.ts";
import { ensureDemoExchange } from "../stablecoin/exchanges.ts";
import { requestMint } from "../stablecoin/mint-flow.ts";
import { attestationKey } from "../stablecoin/stablecoin-config.ts";
import { previousDemoCredentials, writeDemoCredentials, type PreviousDemoCredentials } from "./demo-credentials.ts";
import { collectStartupGarbage, keepYoungGenerationSmall, startEmbeddedStack, type EmbeddedStack } from "./embedded.ts";
import { peerChainAccounts, startEmbeddedPeer, type DemoCorrespondent, type EmbeddedPeer } from "./embedded-peer.ts";
import { ownSigningKeys, type ComposedGateway } from "./features.ts";
import type { GatewayPorts } from "./ports.ts";
import type { DeploymentSettings, PvpSettings } from "./settings.ts";

const DEMO_MINT_TIYN = 100_000_000n;

/** Said at every embedded start and written to the credentials file: what a restart keeps. */
export const EMBEDDED_RESTART_NOTICE =
  "restart: the embedded demo starts fresh (the chain lives in memory): PvPs, mints and principals added while it ran are gone; the keys in demo-credentials.json stay valid for this DATA_DIR";

/**
 * The embedded demo as the composition root sees it: the embedded stack (and, with PvP on, the foreign
 * central bank's gateway) running, the ports and settings the features compose on, and the two steps that
 * fill it with demo parties.
 */
export interface EmbeddedDemo {
  stack: EmbeddedStack;
  /** The embedded foreign central bank's gateway, when PvP is on. */
  peer: EmbeddedPeer | undefined;
  ports: GatewayPorts;
  /** The settings given, with our demo PvP signing key when the peer runs and none was given. */
  settings: DeploymentSettings;
  /** The demo keys kept under DATA_DIR (a deployment must give its own, checked in the settings). */
  attestationKey: Uint8Array;
  pvpSecretKey: Uint8Array;
  /** Creates the demo parties once the features are composed (before the server listens). */
  seed(composed: ComposedGateway, identity: IdentityStore): Promise<void>;
  /**
   * Once listening at `url`: registers us with the peer, writes DATA_DIR/demo-credentials.json, runs the
   * first mint. Returns the links worth printing.
   */
  welcome(url: string): Promise<Record<string, string>>;
  /** Stops the peer, then the stack. */
  stop(): Promise<void>;
}

/**
 * Run before the database opens: the embedded chain lives in memory, so the embedded demo state starts
 * fresh (refused while another process runs on the same DATA_DIR), and V8 is set for a small process.
 */
export function prepareEmbeddedStart(dataDir: string): void {
  resetEmbeddedState(dataDir);
  keepYoungGenerationSmall();
}

export interface EmbeddedDemoOptions {
  config: GatewayConfig;
  db: Database;
  settings: DeploymentSettings;
  logger: Logger;
}

/** Starts the embedded stack and, with PvP on, the foreign central bank's gateway paired with us. */
export async function startEmbeddedDemo({ config, db, settings, logger }: EmbeddedDemoOptions): Promise<EmbeddedDemo> {
  const previous = previousDemoCredentials(config.dataDir);
  const stack = await startEmbeddedStack({
    db,
    directory: join(config.dataDir, "embedded"),
    chainHost: config.embeddedChainHost,
    chainPort: config.embeddedChainPort,
    chainBlockIntervalMs: config.embeddedChainBlockIntervalMs,
    dtLedgerHost: config.host,
    dtLedgerPort: config.embeddedDtLedgerPort,
    participantSeeds: previous.participantSeeds,
  });
  let peer: EmbeddedPeer | undefined;
  let nbkSigning: { keyId: string; seed: Uint8Array } | undefined;
  const stop = async () => {
    await peer?.close();
    await stack.stop();
  };
  try {
    if (settings.pvp) {
      peer = await startEmbeddedPeer({
        directory: join(config.dataDir, "embedded"),
        host: config.host,
        port: config.embeddedPeerPort,
        logger,
        bodyLimitBytes: config.bodyLimitBytes,
        signatureMaxSkewSeconds: config.signatureMaxSkewSeconds,
        chain: {
          rpcUrl: stack.chain.rpcUrl,
          chainId: stack.chain.chainId,
          hashTimeLock: stack.deployment.contracts.HashTimeLock.address,
          foreignCbdc: stack.deployment.contracts.DemoForeignCbdc!.address,
        },
        issuerKey: stack.keys.deployer,
        ...peerChainAccounts(stack.chain.accounts),
        signingSeed: previous.foreignSigningSeed ?? generateEd25519().seed,
        secretKey: new Uint8Array(randomBytes(32)),
      });
      // Our side of the pair: a signing key for our messages (unless PVP_SIGNING_KEY gives one) and the
      // foreign central bank in our directory, so `peer:FCBKAEAD` legs settle over signed ISO 20022.
      // The demo key is kept under DATA_DIR, so a correspondent that pinned it keeps it across restarts.
      nbkSigning = settings.pvp.signing ?? { keyId: `${settings.pvp.agent}-demo-1`, seed: embeddedSecret(config.dataDir, "pvp-signing-key") };
      settings = { ...settings, pvp: { ...settings.pvp, signing: nbkSigning } };
      const foreign = peer.correspondent;
      await correspondentStore.add(db, { bic: foreign.bic, name: foreign.name, baseUrl: foreign.url, signingKeys: [{ keyId: foreign.keyId, publicKey: foreign.publicKey }] });
    }
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  let seeded: SeededDemo | undefined;
  return {
    stack,
    peer,
    ports: embeddedPorts(stack, settings),
    settings,
    attestationKey: attestationKey(settings.stablecoin, config.dataDir),
    pvpSecretKey: settings.pvp?.secretKey ?? embeddedSecret(config.dataDir, "pvp-secret-key"),
    async seed(composed, identity) {
      seeded = await seedEmbeddedDemo(db, stack, composed, identity, previous);
    },
    async welcome(url) {
      if (peer && nbkSigning) {
        const nbk: DemoCorrespondent = {
          bic: settings.pvp!.agent,
          name: "National Bank of Kazakhstan",
          url,
          keyId: nbkSigning.keyId,
          publicKey: Buffer.from(ed25519RawPublicKey(ed25519PrivateKey(nbkSigning.seed))).toString("hex"),
        };
        await peer.registerCorrespondent(nbk);
      }
      if (!seeded) return {};
      const links: Record<string, string> = {};
      const ours = settings.pvp?.signing ? { nbk: ourPvpEndpoints(settings.pvp, url) } : {};
      const correspondent = seeded.credentials["correspondent"] ? { correspondent: { ...(seeded.credentials["correspondent"] as object), ...ours } } : {};
      links["demo credentials"] = writeDemoCredentials(config.dataDir, {
        restart: EMBEDDED_RESTART_NOTICE,
        ...seeded.credentials,
        ...correspondent,
        ...peerCredentials(stack, peer, settings.pvp, url),
        dtLedger: dtLedgerCredentials(stack),
      });
      Object.assign(links, stack.links, peer ? { "foreign CB gateway": `${peer.correspondent.url} (${peer.correspondent.bic})` } : {});
      await seeded.mint?.();
      collectStartupGarbage();
      return links;
    },
    stop,
  };
}

interface SeededDemo {
  credentials: Record<string, unknown>;
  /** The first mint, run once the workers run. */
  mint: (() => Promise<void>) | undefined;
}

/** The embedded stack's ports, with the stablecoin settings that still apply there (minter key, public RPC URL). */
function embeddedPorts(embedded: EmbeddedStack, settings: DeploymentSettings): GatewayPorts {
  return {
    ...embedded.ports,
    stablecoinChains: embedded.ports.stablecoinChains.map((chain, index) =>
      index === 0 ? { ...chain, minterKey: settings.stablecoin.minterKey ?? chain.minterKey, publicRpcUrl: settings.stablecoin.publicRpcUrl ?? chain.publicRpcUrl } : chain,
    ),
  };
}

/**
 * The demo parties of the embedded stack: an operator, an exchange with a first mint, the PvP demo
 * accounts. Their API keys are the ones of the previous start when there was one, so they keep working.
 */
async function seedEmbeddedDemo(
  db: Database,
  embedded: EmbeddedStack,
  composed: ComposedGateway,
  identity: IdentityStore,
  previous: PreviousDemoCredentials,
): Promise<SeededDemo> {
  const credentials: Record<string, unknown> = { operator: await createDemoOperator(identity, previous.operatorApiKey) };
  let mint: (() => Promise<void>) | undefined;
  const stablecoin = composed.stablecoin;
  if (stablecoin) {
    const exchangeKey = embedded.chain.accounts[3] as Hex;
    const demoExchange = await ensureDemoExchange(stablecoin.exchanges, {
      dtAccount: embedded.demo.accounts.kase.id,
      evmAddress: privateKeyToAddress(exchangeKey),
    });
    let apiKey = demoExchange.apiKey;
    if (demoExchange.credentialId && previous.exchangeApiKey) {
      await identity.revokeCredential(demoExchange.credentialId);
      await identity.importApiKey(demoExchange.exchange.principalId, previous.exchangeApiKey, "demo exchange, kept per DATA_DIR");
      apiKey = previous.exchangeApiKey;
    }
    const participant = Object.values(embedded.demo.participants).find((candidate) => candidate.id === embedded.demo.accounts.kase.participantId)!;
    credentials["exchange"] = {
      id: demoExchange.exchange.id,
      apiKey,
      dtAccount: embedded.demo.accounts.kase.id,
      // The exchange's bank on the DT ledger signs its payments (dt-ledger service, RFC 9421).
      dtParticipant: participant.id,
      dtParticipantSeed: participant.signingSeed,
      evmPrivateKey: exchangeKey,
    };
    // The demo starts with one mint on each chain: the exchange asks, pays the DT into the collateral intake
    // (1,000,000.00 for the first chain, 500,000.00 for the second), and the gateway's workers allot and mint
    // it, so the collateral page has both chains to verify.
    mint = async () => {
      for (const [index, chain] of stablecoin.chains.entries()) {
        const amount = index === 0 ? DEMO_MINT_TIYN : DEMO_MINT_TIYN / 2n;
        const request = await requestMint(db, demoExchange.exchange, amount, { chainId: chain.chainId });
        await embedded.dtLedger.transfer(embedded.demo.accounts.kase.participantId, {
          idempotencyKey: `demo:mint:${request.id}`,
          from: embedded.demo.accounts.kase.id,
          to: stablecoin.intakeAccount,
          amount,
          reference: request.reference,
        });
      }
    };
  }
  if (composed.pvp) {
    const foreignBeneficiary = privateKeyToAddress(embedded.chain.accounts[4] as Hex);
    credentials["bank"] = await createDemoBank(identity, embedded.demo.participants.halyk, { foreignPayer: embedded.foreignPayer, foreignBeneficiary }, previous.bankApiKey);
    credentials["pvp"] = {
      counterparty: DEMO_COUNTERPARTY,
      foreignLedger: "evm",
      foreignCbdc: embedded.deployment.contracts.DemoForeignCbdc!.address,
      foreignPayer: embedded.foreignPayer,
      foreignBeneficiary,
      dtPayer: embedded.demo.accounts.aigerim.id,
      dtBeneficiary: await seedDemoCounterpartyTerms(db, embedded),
    };
    credentials["correspondent"] = await seedDemoCorrespondent(db, embedded, previous.correspondentSigningSeed);
  }
  if (composed.pvp && embedded.ports.securitiesLegs?.length) {
    const brokers = await seedDemoBrokers(identity, embedded.dtLedger, {
      nbk: embedded.demo.participants.nbk.id,
      ledger: embedded.ports.securitiesLegs[0]!.ledger,
      holdings: { seller: privateKeyToAddress(embedded.chain.accounts[7] as Hex), buyer: privateKeyToAddress(embedded.chain.accounts[8] as Hex) },
      previousApiKeys: previous.brokerApiKeys,
    });
    credentials["dvp"] = { isin: DEMO_BOND.isin, ledger: embedded.ports.securitiesLegs[0]!.ledger, security: embedded.deployment.contracts.SecurityToken!.address, sellingBroker: brokers.seller, buyingBroker: brokers.buyer };
  }
  return { credentials, mint };
}

/** What a newcomer needs for a PvP with the foreign central bank's gateway, and to sign a message as it. */
function peerCredentials(embedded: EmbeddedStack, peer: EmbeddedPeer | undefined, pvp: PvpSettings | undefined, nbkUrl: string): Record<string, unknown> {
  if (!peer || !pvp?.signing) return {};
  const ourAgent = pvp.agent;
  const foreign = peer.correspondent;
  return {
    peerPvp: {
      counterparty: foreign.bic,
      foreignLedger: `peer:${foreign.bic}`,
      // On a peer leg the parties are BICs: the foreign central bank pays, the NBK is paid on its account there.
      foreignPayer: foreign.bic,
      foreignBeneficiary: ourAgent,
      foreignCurrency: "AED",
      dtPayer: embedded.demo.accounts.aigerim.id,
      dtBeneficiary: embedded.demo.accounts.coffeeShop.id,
      foreignCbdc: embedded.deployment.contracts.DemoForeignCbdc!.address,
      nbkGatewayUrl: nbkUrl,
      nbkInboundUrl: `${nbkUrl}/iso20022/inbound`,
      // The keys our messages are signed with, as GET /iso20022/keys publishes them: pin them.
      nbkKeysUrl: `${nbkUrl}/iso20022/keys`,
      nbkKeys: publishedKeySet(ourAgent, ownSigningKeys(pvp.signing), new Date()),
      nbkAccountOnForeignLedger: peer.nbkAccount,
      foreignCentralBank: {
        bic: foreign.bic,
        gatewayUrl: foreign.url,
        keyId: foreign.keyId,
        signingSeed: peer.signingSeed,
        publicKey: foreign.publicKey,
        accountOnForeignLedger: peer.payer,
      },
    },
  };
}

/** What a correspondent needs of us: our BIC, where to post, where our keys are, and the keys themselves. */
function ourPvpEndpoints(pvp: PvpSettings, url: string): Record<string, unknown> {
  return { bic: pvp.agent, gatewayUrl: url, inboundUrl: `${url}/iso20022/inbound`, keysUrl: `${url}/iso20022/keys`, keys: publishedKeySet(pvp.agent, ownSigningKeys(pvp.signing!), new Date()) };
}

function dtLedgerCredentials(embedded: EmbeddedStack): Record<string, unknown> {
  return { url: embedded.dtLedgerUrl, participants: embedded.demo.participants, accounts: embedded.demo.accounts };
}

/** 32 random bytes generated once into DATA_DIR/<name> (owner-only) and read back at every start. */
function embeddedSecret(dataDir: string, name: string): Uint8Array {
  const file = join(dataDir, name);
  if (existsSync(file)) return new Uint8Array(Buffer.from(readFileSync(file, "utf8").trim(), "hex"));
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString("hex")}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return new Uint8Array(key);
}

/**
 * The embedded chain lives in memory, so the embedded demo state (DT ledger, gateway records) starts fresh
 * at every start to stay consistent with it. Refused while another process runs on the same directory.
 */
function resetEmbeddedState(dataDir: string): void {
  const directory = join(dataDir, "embedded");
  let unlock: () => void;
  try {
    unlock = lockDirectory(join(directory, "pglite"));
  } catch (error) {
    if (error instanceof DataDirectoryInUseError) throw new ConfigError("DATA_DIR", `is in use (DATA_DIR_IN_USE): ${error.message}`);
    throw error;
  }
  unlock();
  rmSync(directory, { recursive: true, force: true });
}

/** The embedded stack gets one operator so a newcomer can use the operator API at once; its key is kept per DATA_DIR. */
async function createDemoOperator(identity: IdentityStore, previousApiKey: string | undefined) {
  const id = await identity.createPrincipal("operator", "Demo operator", "demo-operator");
  if (previousApiKey) {
    const { credentialId } = await identity.importApiKey(id, previousApiKey, "demo operator, kept per DATA_DIR");
    return { principal: id, credentialId, apiKey: previousApiKey };
  }
  const { apiKey, credentialId } = await identity.issueApiKey(id, "created by the embedded start");
  return { principal: id, credentialId, apiKey };
}

/** The counterparty of the demo PvPs on the embedded chain (the foreign CBDC's central bank). */
const DEMO_COUNTERPARTY = "FCBKAEAD";

/**
 * The demo counterparty's consent for PvPs on the embedded chain: its KZT settlement account on DT (held at
 * Halyk), standing terms for AED on `evm` (100,000.00 AED per PvP, 1,000,000.00 a day, 2% around the
 * reference rate) and the reference rate 125.00 KZT per AED, so the README's 15,000.00 KZT for 120.00 AED
 * passes and anything far from it is refused. Returns the settlement account (the demo's DT beneficiary).
 */
async function seedDemoCounterpartyTerms(db: Database, embedded: EmbeddedStack): Promise<string> {
  const settlement = await embedded.dtLedger.openAccount(embedded.demo.participants.halyk.id, {
    idempotencyKey: "demo:open:counterpartySettlement",
    kind: "legal_entity",
    holderName: "Demo foreign central bank (AED CBDC), KZT settlement account",
  });
  await termsStore.setReferenceRate(db, "AED", "125.00", "embedded-demo");
  await termsStore.setTerms(
    db,
    { counterpartyAgent: DEMO_COUNTERPARTY, foreignLedger: "evm", foreignCurrency: "AED", maxForeignAmount: 10_000_000n, dailyForeignAmount: 100_000_000n, rateBandBps: 200, dtBeneficiaries: [settlement.id] },
    "embedded-demo",
  );
  return settlement.id;
}

/** The demo second correspondent: a central bank written by a newcomer against the published profile. */
export const DEMO_CORRESPONDENT = { bic: "DEMOGB2L", name: "Demo correspondent central bank (yours)", baseUrl: "http://127.0.0.1:9400" } as const;

/**
 * A second correspondent ready for a newcomer's own gateway (docs/iso20022-pvp-profile.md, "First PvP in 15
 * minutes"): in the directory with a signing key (seed kept per DATA_DIR), a DT liquidity account holding
 * 10,000,000.00 KZT that pays the legs it instructs us to lock, and its DT settlement account those legs pay.
 * Its base URL is a placeholder the newcomer points at its own inbound endpoint.
 */
async function seedDemoCorrespondent(db: Database, embedded: EmbeddedStack, previousSeed: Uint8Array | undefined): Promise<Record<string, unknown>> {
  const halyk = embedded.demo.participants.halyk.id;
  const open = (name: string, holderName: string) => embedded.dtLedger.openAccount(halyk, { idempotencyKey: `demo:open:${name}`, kind: "legal_entity", holderName });
  const liquidity = await open("correspondentLiquidity", `${DEMO_CORRESPONDENT.name}, KZT liquidity`);
  const settlement = await open("correspondentSettlement", `${DEMO_CORRESPONDENT.name}, KZT settlement`);
  await embedded.dtLedger.issue(embedded.demo.participants.nbk.id, { idempotencyKey: "demo:issue:correspondentLiquidity", accountId: liquidity.id, amount: 1_000_000_000n, reference: "demo correspondent liquidity" });
  const seed = previousSeed ?? generateEd25519().seed;
  const keyId = `${DEMO_CORRESPONDENT.bic}-demo-1`;
  const publicKey = Buffer.from(ed25519RawPublicKey(ed25519PrivateKey(seed))).toString("hex");
  await correspondentStore.add(db, {
    bic: DEMO_CORRESPONDENT.bic,
    name: DEMO_CORRESPONDENT.name,
    baseUrl: DEMO_CORRESPONDENT.baseUrl,
    signingKeys: [{ keyId, publicKey }],
    liquidityAccounts: [liquidity.id],
    settlementAccount: settlement.id,
  });
  return {
    bic: DEMO_CORRESPONDENT.bic,
    name: DEMO_CORRESPONDENT.name,
    // Where we send its messages (<baseUrl>/iso20022/inbound): point it at your gateway with `correspondents update`.
    baseUrl: DEMO_CORRESPONDENT.baseUrl,
    keyId,
    // Demo only: a real correspondent registers its own public key (`correspondents keys add`).
    signingSeed: Buffer.from(seed).toString("hex"),
    publicKey,
    liquidityAccount: liquidity.id,
    liquidityBalance: "10000000.00",
    settlementAccount: settlement.id,
    currency: "KZT",
  };
}

/**
 * The embedded stack's demo bank: Halyk Bank, whose participant services the demo payers' DAs, with the demo
 * foreign payer registered for the counterparty and the demo foreign beneficiary for Halyk. Its API key is the
 * one of the previous start when there was one, so it keeps working.
 */
async function createDemoBank(
  identity: IdentityStore,
  halyk: { id: string; name: string },
  evm: { foreignPayer: string; foreignBeneficiary: string },
  previousApiKey: string | undefined,
) {
  const principal = await identity.createPrincipal("bank", halyk.name, "demo-bank-halyk", { bic: halyk.id, dtParticipant: halyk.id });
  const apiKey = previousApiKey
    ? (await identity.importApiKey(principal, previousApiKey, "demo bank, kept per DATA_DIR"), previousApiKey)
    : (await identity.issueApiKey(principal, "created by the embedded start")).apiKey;
  await identity.registerLedgerAccount(DEMO_COUNTERPARTY, "evm", evm.foreignPayer);
  await identity.registerLedgerAccount(halyk.id, "evm", evm.foreignBeneficiary);
  return { principal, apiKey, bic: halyk.id };
}
