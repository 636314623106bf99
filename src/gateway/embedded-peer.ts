import type { Address, Hex } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { correspondentStore } from "../correspondents/store.ts";
import { ed25519PrivateKey, ed25519RawPublicKey } from "../identity/http-signature.ts";
import type { Database } from "../persistence/database.ts";
import { migrate } from "../persistence/migrations.ts";
import { openDatabase } from "../persistence/open.ts";
import type { Logger } from "../server/logger.ts";
import { loadStablecoinEnvironment } from "../stablecoin/stablecoin-config.ts";
import { gatewayMigrations } from "./components.ts";
import { embeddedForeignLeg } from "./embedded.ts";
import { composeServer, type ComposedServer } from "./serve.ts";

/** The demo foreign central bank (a dirham CBDC on the embedded chain). */
export const FOREIGN_CENTRAL_BANK = { bic: "FCBKAEAD", name: "Demo foreign central bank (AED CBDC)" } as const;

/** A correspondent as the other side registers it: its gateway, its signing key, who pays for it. */
export interface DemoCorrespondent {
  bic: string;
  name: string;
  url: string;
  keyId: string;
  /** Raw Ed25519 public key, hex. */
  publicKey: string;
}

export interface EmbeddedPeerOptions {
  /** DATA_DIR/embedded: its PGlite database goes to `foreign/pglite` below it. */
  directory: string;
  host: string;
  /** EMBEDDED_PEER_PORT; 0 picks a free one. */
  port: number;
  logger: Logger;
  bodyLimitBytes: number;
  signatureMaxSkewSeconds: number;
  chain: { rpcUrl: string; chainId: number; hashTimeLock: Address; foreignCbdc: Address };
  /** Issuer of the demo foreign CBDC: gives the foreign central bank its float. */
  issuerKey: Hex;
  /** The foreign central bank's key on the chain: pays the legs it is instructed to lock, claims and refunds. */
  payerKey: Hex;
  /** The account on the foreign ledger that the NBK is paid to (its liquidity account there). */
  nbkAccount: Address;
  /** Ed25519 seed that signs its messages to the NBK. */
  signingSeed: Uint8Array;
  /** Its preimage encryption key. */
  secretKey: Uint8Array;
}

export interface EmbeddedPeer {
  correspondent: DemoCorrespondent;
  /** Its own account on the foreign ledger (PVP_AGENT_ACCOUNT): pays the legs it locks. */
  payer: Address;
  nbkAccount: Address;
  /** Its Ed25519 seed (hex): demo only, so a newcomer can sign a message as the foreign central bank. */
  signingSeed: string;
  db: Database;
  server: ComposedServer;
  /** Registers the NBK's gateway in its directory of correspondents. */
  registerCorrespondent(nbk: DemoCorrespondent): Promise<void>;
  close(): Promise<void>;
}

/**
 * A second, foreign central bank's gateway beside the embedded NBK gateway: the same program built by the
 * same composition root, with its own database, its own HTTP server, and as its ledger the demo foreign
 * CBDC's HTLC on the embedded chain, where it locks the legs the NBK instructs it to lock.
 */
export async function startEmbeddedPeer(options: EmbeddedPeerOptions): Promise<EmbeddedPeer> {
  const db = await openDatabase({ databaseUrl: undefined, dataDir: options.directory, name: "foreign" });
  let server: ComposedServer | undefined;
  try {
    await migrate(db, gatewayMigrations());
    const { leg, foreignPayer } = await embeddedForeignLeg({
      rpcUrl: options.chain.rpcUrl,
      chainId: options.chain.chainId,
      hashTimeLock: options.chain.hashTimeLock,
      foreignCbdc: options.chain.foreignCbdc,
      issuerKey: options.issuerKey,
      foreignPayerKey: options.payerKey,
    });
    const keyId = `${FOREIGN_CENTRAL_BANK.bic}-demo-1`;
    const logger = options.logger.child({ gateway: FOREIGN_CENTRAL_BANK.bic });
    server = await composeServer({
      db,
      logger,
      ports: { dtLedger: undefined, stablecoinChains: [], foreignLegs: [leg], readiness: [], stop: async () => {} },
      settings: {
        dtLedger: undefined,
        stablecoinChains: [],
        stablecoin: loadStablecoinEnvironment({}),
        pvp: {
          agent: FOREIGN_CENTRAL_BANK.bic,
          signing: { keyId, seed: options.signingSeed },
          secretKey: options.secretKey,
          foreignLedgers: [],
          responderLedger: leg.ledger,
          maxLockSeconds: 86_400,
          homeCurrency: "AED",
          statusRequestAfterSeconds: 30,
          pollIntervalMs: 500,
        },
      },
      attestationKey: undefined,
      pvpSecretKey: options.secretKey,
      publicUrl: `http://${options.host}:${options.port}`,
      host: options.host,
      port: options.port,
      portVariable: "EMBEDDED_PEER_PORT",
      bodyLimitBytes: options.bodyLimitBytes,
      signatureMaxSkewSeconds: options.signatureMaxSkewSeconds,
    });
    const url = await server.listen();
    const running = server;
    return {
      correspondent: {
        ...FOREIGN_CENTRAL_BANK,
        url,
        keyId,
        publicKey: Buffer.from(ed25519RawPublicKey(ed25519PrivateKey(options.signingSeed))).toString("hex"),
      },
      payer: foreignPayer,
      nbkAccount: options.nbkAccount,
      signingSeed: Buffer.from(options.signingSeed).toString("hex"),
      db,
      server: running,
      async registerCorrespondent(nbk) {
        await correspondentStore.add(db, {
          bic: nbk.bic,
          name: nbk.name,
          baseUrl: nbk.url,
          signingKeys: [{ keyId: nbk.keyId, publicKey: nbk.publicKey }],
          // Legs the NBK instructs are paid from our payer's chain account to the NBK's account on the chain.
          liquidityAccounts: [foreignPayer],
          settlementAccount: options.nbkAccount,
        });
        await running.composed.directory.refresh();
      },
      async close() {
        await running.close();
        await db.close();
      },
    };
  } catch (error) {
    await server?.close().catch(() => {});
    await db.close();
    throw error;
  }
}

/** The foreign central bank's accounts on the embedded chain, from the chain's development keys. */
export function peerChainAccounts(accounts: readonly Hex[]): { payerKey: Hex; nbkAccount: Address } {
  return { payerKey: accounts[5]!, nbkAccount: privateKeyToAddress(accounts[6]!) };
}
