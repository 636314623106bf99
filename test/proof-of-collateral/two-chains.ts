import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { ed25519 } from "@noble/curves/ed25519.js";
import type { FastifyInstance } from "fastify";
import type { Address, Hex } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { deployContracts } from "../../src/evm/deploy-contracts.ts";
import { startEmbeddedChain, type EmbeddedChain } from "../../src/evm/embedded-chain.ts";
import { gatewayMigrations } from "../../src/gateway/components.ts";
import { AttestationService } from "../../src/proof-of-collateral/attestation-service.ts";
import { proofOfCollateralRoutes } from "../../src/proof-of-collateral/routes.ts";
import { buildGatewayApp } from "../../src/server/app.ts";
import { createLogger } from "../../src/server/logger.ts";
import { createMetricsRegistry } from "../../src/server/metrics.ts";
import { MintWorker, requestMint } from "../../src/stablecoin/mint-flow.ts";
import { TokenChain } from "../../src/stablecoin/token-chain.ts";
import { createStablecoinWorld, type StablecoinWorld } from "../stablecoin/support.ts";

/** The second chain's id (the world's first chain is EDR's default 31337). */
export const SECOND_CHAIN_ID = 31338;

/**
 * The stablecoin on two in-process EDR chains over one DT pool: the world's chain (31337) and a second one
 * (31338) with its own token deployment (same collateral signer, same segregated wallet) and its own minter,
 * and an attestation service over both, served by a gateway app on a free port. All real: PGlite or
 * PostgreSQL, two EDR chains, the embedded DT ledger.
 */
export interface TwoChainWorld {
  world: StablecoinWorld;
  second: { chain: EmbeddedChain; tokenChain: TokenChain; token: Address };
  attestations: AttestationService;
  app: FastifyInstance;
  baseUrl: string;
  /** An exchange mint of `amount` tiyn on the first or the second chain, through the real mint flow. */
  mint(on: "first" | "second", amount: bigint): Promise<void>;
  close(): Promise<void>;
}

export async function createTwoChainWorld(): Promise<TwoChainWorld> {
  const world = await createStablecoinWorld();
  const chain = await startEmbeddedChain({ chainId: SECOND_CHAIN_ID });
  // Its own minter, as a deployment may well have one per chain.
  const minterKey = chain.accounts[4] as Hex;
  const deploymentsDir = mkdtempSync(join(tmpdir(), "tg-deployments-"));
  const { deployment } = await deployContracts({
    rpcUrl: chain.rpcUrl,
    deployerKey: world.operatorKey,
    collateralSigner: privateKeyToAddress(world.operatorKey),
    segregatedAccount: world.segregatedAccount,
    maxStatementAge: 3600n,
    minters: [{ address: privateKeyToAddress(minterKey), allowance: 10n ** 30n }],
    deploymentsDir,
  });
  rmSync(deploymentsDir, { recursive: true, force: true });
  const token = deployment.contracts.TengeStablecoin.address;
  const tokenChain = await TokenChain.connect({ rpcUrl: chain.rpcUrl, token, minterKey, pollingIntervalMs: 50 });
  const attestations = new AttestationService({
    db: world.db,
    ledger: world.gatewayLedger,
    chains: [
      { chainId: world.chain.chainId, chain: world.tokenChain, publicRpcUrl: world.chain.rpcUrl },
      { chainId: SECOND_CHAIN_ID, chain: tokenChain, publicRpcUrl: chain.rpcUrl },
    ],
    segregatedAccount: world.segregatedAccount,
    signingKey: ed25519.utils.randomSecretKey(),
  });
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const app = await buildGatewayApp({
    db: world.db,
    logger: createLogger("warn", sink),
    metrics: createMetricsRegistry(),
    migrationSets: gatewayMigrations(),
    bodyLimitBytes: 1024 * 1024,
    signatureMaxSkewSeconds: 300,
    features: [proofOfCollateralRoutes({ attestations })],
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as { port: number };
  const secondWorker = () => new MintWorker({ db: world.db, ledger: world.gatewayLedger, chain: tokenChain, settings: world.mintSettings, firstChain: false });
  return {
    world,
    second: { chain, tokenChain, token },
    attestations,
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    async mint(on, amount) {
      const request = await requestMint(world.db, world.exchange, amount, { chainId: on === "first" ? world.chain.chainId : SECOND_CHAIN_ID });
      await world.deposit(request.reference, amount);
      while (await world.follower().step()) {
        /* match every deposit */
      }
      await (on === "first" ? world.mintWorker() : secondWorker()).drain();
    },
    async close() {
      await app.close();
      await chain.close();
      await world.close();
    },
  };
}
