import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Database } from "../persistence/database.ts";
import { AttestationService } from "../proof-of-collateral/attestation-service.ts";
import { proofOfCollateralRoutes } from "../proof-of-collateral/routes.ts";
import type { FeatureRoutes } from "../server/app.ts";
import type { ReadinessCheck } from "../server/health.ts";
import type { Logger } from "../server/logger.ts";
import { openCollateralIntake } from "./collateral-intake.ts";
import { DepositFollower } from "./deposit-follower.ts";
import { ExchangeStore } from "./exchanges.ts";
import { MintWorker, type MintSettings } from "./mint-flow.ts";
import { startPollingLoop, type PollingLoop } from "./polling-loop.ts";
import { RateLimiter } from "./rate-limit.ts";
import { MoveWorker, type MoveSource } from "./move-flow.ts";
import { moveRoutes } from "./move-routes.ts";
import { RedeemWorker, type RedeemSettings } from "./redeem-flow.ts";
import { stablecoinRoutes } from "./routes.ts";
import { StablecoinService } from "./service.ts";
import type { StablecoinLedger } from "./stablecoin-ledger.ts";
import { depositRows, minterNonceRows, mintRows, redemptionRows } from "./store.ts";
import { TokenChain } from "./token-chain.ts";
import type { Address, Hex } from "viem";
import { ConfigError } from "../config/config.ts";
import { CHAINS_VARIABLE } from "../evm/chain-settings.ts";
import { WorkerFaults } from "../server/worker-faults.ts";
import { stablecoinFaultOf } from "./operator-faults.ts";
import { registerPoolChains } from "./allotments.ts";

/** One chain the token runs on (STABLECOIN_CHAINS entry, or the single chain of STABLECOIN_DEPLOYMENTS_FILE). */
export interface StablecoinChainOptions {
  rpcUrl: string;
  token: Address;
  /** The minter key of this chain; without it this process only watches and attests there. */
  minterKey?: Hex;
  /** Block the token was deployed in: the first block scanned for Redeemed logs. */
  startBlock?: bigint;
  /** This chain's own confirmations and reorganisation window (default: the component's settings). */
  mintConfirmations?: number;
  redeemConfirmations?: number;
  reorgWindowBlocks?: number;
  /** The RPC the public page and `collateral verify` suggest for this chain (verifiers may use their own). */
  publicRpcUrl?: string;
}

export interface StablecoinComponentOptions {
  db: Database;
  /** The DT ledger port, acting as the gateway participant that operates the segregated wallet. */
  ledger: StablecoinLedger;
  logger: Logger;
  metrics?: Registry;
  /** Every chain of the one collateral pool, the default (first) one first; chain ids must differ. */
  chains: readonly StablecoinChainOptions[];
  segregatedAccount: string;
  /** The gateway's Ed25519 key for attestations (32 bytes). */
  attestationKey: Uint8Array;
  settings?: Partial<StablecoinSettings>;
  /** The first chain's public RPC, when its entry names none (COLLATERAL_PUBLIC_RPC_URL). */
  publicRpcUrl?: string;
  publicUrl?: string;
  /** Time in milliseconds for the exchange rate limit (default Date.now; tests control it). */
  clock?: () => number;
}

export interface StablecoinSettings {
  mintConfirmations: number;
  redeemConfirmations: number;
  reorgWindow: number;
  stuckAfterMs: number;
  maxMintAttempts: number;
  /** Idle pause of the background loops. */
  pollMs: number;
  /** An attestation is issued at least this often. */
  attestationIntervalMs: number;
  /** Exchange API calls per second per exchange (burst: ten times that). */
  exchangeRatePerSecond: number;
  /** How long an unpaid mint request stays open; a deposit after that is held for an operator. */
  mintRequestTtlMs: number;
}

export const DEFAULT_STABLECOIN_SETTINGS: StablecoinSettings = {
  mintConfirmations: 1,
  redeemConfirmations: 2,
  reorgWindow: 32,
  stuckAfterMs: 120_000,
  maxMintAttempts: 5,
  pollMs: 500,
  attestationIntervalMs: 30_000,
  exchangeRatePerSecond: 5,
  mintRequestTtlMs: 86_400_000,
};

/** What the gateway wires in: routes for the app, readiness checks, and the background workers. */
export interface StablecoinComponent {
  routes: FeatureRoutes[];
  readiness: ReadinessCheck[];
  attestations: AttestationService;
  /** Every configured chain's client, in the configured order; the first is the default. */
  chains: readonly TokenChain[];
  /** The chain with this id, if configured. */
  chainOf(chainId: number): TokenChain | undefined;
  /** The default (first) chain: `chains[0]`. */
  chain: TokenChain;
  exchanges: ExchangeStore;
  /** The use cases routes and the CLI call. */
  service: StablecoinService;
  /** The collateral intake exchanges pay mint deposits into. */
  intakeAccount: string;
  /** Starts the deposit follower, a mint worker and a redeem watcher per chain, and the attestation timer. */
  start(): void;
  stop(): Promise<void>;
}

/**
 * Puts every chain whose token requires allotments into the pool's book (once per chain and token: the
 * reference keys it), so the ledger can allot deposits to it. With several chains, a token that mints
 * without allotments is refused before anything is written: it would check the whole pool on its own and
 * could issue all of it again (docs/contracts.md, "Why not net allotments or the whole pool on each chain").
 */
async function joinPoolAll(ledger: StablecoinLedger, segregatedAccount: string, chains: readonly TokenChain[]): Promise<void> {
  const required = await Promise.all(chains.map(async (chain) => (await chain.issuance()).required));
  if (chains.length > 1) {
    const naive = chains.find((_, index) => !required[index]);
    if (naive) {
      throw new ConfigError(
        CHAINS_VARIABLE,
        `chain ${naive.chainId}: the token ${naive.token} mints without issuance allotments, so with several chains each would check the whole pool against its own supply; its owner calls requireIssuanceAllotments() first (docs/deploy.md, "Adding a chain")`,
      );
    }
  }
  await registerPoolChains(ledger, segregatedAccount, chains);
}

/**
 * The stablecoin and proof-of-collateral component: exchange API, mint and redeem flows on every chain of
 * the pool, attestations and the public page. Several gateway processes may run it on one database; their
 * workers coordinate through row locks, so each transition happens once.
 */
export async function createStablecoinComponent(options: StablecoinComponentOptions): Promise<StablecoinComponent> {
  const settings = { ...DEFAULT_STABLECOIN_SETTINGS, ...options.settings };
  const { db, ledger, logger } = options;
  if (options.chains.length === 0) throw new Error("the stablecoin needs at least one chain");
  const chains: TokenChain[] = [];
  for (const chainOptions of options.chains) {
    const chain = await TokenChain.connect({ rpcUrl: chainOptions.rpcUrl, token: chainOptions.token, ...(chainOptions.minterKey ? { minterKey: chainOptions.minterKey } : {}) });
    if (chains.some((known) => known.chainId === chain.chainId)) throw new Error(`chain ${chain.chainId} is configured twice (${chainOptions.rpcUrl})`);
    chains.push(chain);
  }
  const first = chains[0]!;
  await joinPoolAll(ledger, options.segregatedAccount, chains);
  // Requests and nonces from before several chains belong to the first chain, fixed now so that a later
  // reordering of the chains cannot move them.
  const adopted = await mintRows.adoptUnnamed(db, first.chainId);
  await minterNonceRows.adoptUnnamed(db, first.chainId);
  if (adopted > 0) logger.info({ event: "stablecoin.requests_adopted", chain: first.chainId, count: adopted }, "mint requests from before several chains given to the first chain");
  const exchanges = new ExchangeStore(db);
  // The one clock of the service and the workers (timestamps they record, leases, expiry).
  const now = () => new Date();
  const intakeAccount = await openCollateralIntake(ledger, options.segregatedAccount);
  const registers = options.metrics ? [options.metrics] : [];
  const mints = new Counter({ name: "tenge_gateway_stablecoin_mints_total", help: "Mint requests finished, by chain and outcome", labelNames: ["chain", "outcome"], registers });
  const turnaround = new Histogram({
    name: "tenge_gateway_stablecoin_mint_turnaround_seconds",
    help: "From the deposit seen to the mint confirmed, by chain",
    labelNames: ["chain"],
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers,
  });
  const moves = new Counter({ name: "tenge_gateway_stablecoin_moves_total", help: "Moves between chains settled, by outcome (moved or refunded)", labelNames: ["outcome"], registers });
  const redemptions = new Counter({ name: "tenge_gateway_stablecoin_redemptions_total", help: "Redemptions finished, by chain and outcome", labelNames: ["chain", "outcome"], registers });
  new Gauge({
    name: "tenge_gateway_stablecoin_redemptions_failed",
    help: "Redemptions whose DT payout failed and waits for an operator, by chain",
    labelNames: ["chain"],
    registers,
    async collect() {
      const failed = await redemptionRows.countFailedByChain(db);
      for (const chain of chains) this.set({ chain: String(chain.chainId) }, failed.get(chain.chainId) ?? 0);
    },
  });
  new Gauge({
    name: "tenge_gateway_stablecoin_deposits_held",
    help: "DT deposits held for an operator (no matching request, or over limits)",
    registers,
    async collect() {
      this.set(await depositRows.countHeld(db));
    },
  });

  const attestations = new AttestationService({
    db,
    ledger,
    chains: chains.map((chain, index) => {
      const publicRpcUrl = options.chains[index]!.publicRpcUrl ?? (index === 0 ? options.publicRpcUrl : undefined);
      return { chainId: chain.chainId, chain, ...(publicRpcUrl ? { publicRpcUrl } : {}) };
    }),
    segregatedAccount: options.segregatedAccount,
    signingKey: options.attestationKey,
    logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
  });
  const loops: PollingLoop[] = [];
  const wakeAll = () => loops.forEach((loop) => loop.wake());
  const renewAttestation = () => void attestations.renew().catch((error: unknown) => logger.error({ err: error, event: "collateral.attestation_failed" }, "attestation failed"));

  const follower = new DepositFollower({
    db,
    ledger,
    intakeAccount,
    clock: now,
    waitMs: settings.pollMs,
    mintRequestTtlMs: settings.mintRequestTtlMs,
    onMatched: (mintId) => {
      logger.info({ event: "stablecoin.deposit_matched", mint: mintId }, "deposit matched to a mint request");
      wakeAll();
    },
    onHeld: (eventId, reason) => logger.warn({ event: "stablecoin.deposit_held", deposit: eventId, reason }, "deposit held for an operator"),
  });
  // Operator-fixable faults (no gas, RPC down, no statement signer) show in /readyz and a metric, logged once per minute.
  const workerFaults = new WorkerFaults({ logger, ...(options.metrics ? { metrics: options.metrics } : {}) });
  // Worker names carry the chain when there are several, so each chain's fault shows on its own.
  const several = chains.length > 1;
  const named = (worker: string, chain: TokenChain) => (several ? `${worker}:${chain.chainId}` : worker);
  const faultContexts = new Map<string, { minter: Address | undefined; rpcUrl: string }>();
  const workers = chains.map((chain, index) => {
    const chainOptions = options.chains[index]!;
    const label = { chain: String(chain.chainId) };
    const context = { minter: chainOptions.minterKey ? chain.minterAddress : undefined, rpcUrl: chainOptions.rpcUrl };
    for (const worker of ["minter", "mint-worker", "redeem-worker"]) faultContexts.set(named(worker, chain), context);
    const mintSettings: MintSettings = {
      segregatedAccount: options.segregatedAccount,
      intakeAccount,
      confirmations: chainOptions.mintConfirmations ?? settings.mintConfirmations,
      stuckAfterMs: settings.stuckAfterMs,
      recheckMs: Math.min(settings.pollMs, 1000),
      maxAttempts: settings.maxMintAttempts,
    };
    const redeemSettings: RedeemSettings = {
      segregatedAccount: options.segregatedAccount,
      confirmations: chainOptions.redeemConfirmations ?? settings.redeemConfirmations,
      reorgWindow: chainOptions.reorgWindowBlocks ?? settings.reorgWindow,
      startBlock: chainOptions.startBlock ?? 0n,
      maxBlockRange: 2000n,
      retryMs: 30_000,
      payLeaseMs: 60_000,
    };
    const mintWorker = chainOptions.minterKey
      ? new MintWorker({
          db,
          ledger,
          chain,
          firstChain: index === 0,
          settings: mintSettings,
          clock: now,
          faultOf: (error) => stablecoinFaultOf(error, context),
          onFault: (fault) => (fault ? workerFaults.report(named("minter", chain), fault) : workerFaults.clear(named("minter", chain))),
          onMinted: (mint) => {
            mints.inc({ ...label, outcome: "minted" });
            if (mint.depositedAt && mint.mintedAt) turnaround.observe(label, (mint.mintedAt.getTime() - mint.depositedAt.getTime()) / 1000);
            logger.info({ event: "stablecoin.minted", mint: mint.id, chain: chain.chainId, tx: mint.mintedTxHash, amount: mint.amount.toString() }, "minted");
            renewAttestation();
          },
          onFailed: (mint) => {
            mints.inc({ ...label, outcome: "failed" });
            logger.error({ event: "stablecoin.mint_failed", mint: mint.id, chain: chain.chainId }, "mint failed; the deposit waits for an operator");
          },
        })
      : undefined;
    const redeemWorker = new RedeemWorker({
      db,
      ledger,
      chain,
      settings: redeemSettings,
      clock: now,
      onPaid: (redemption) => {
        redemptions.inc({ ...label, outcome: "paid" });
        logger.info({ event: "stablecoin.redemption_paid", redemption: redemption.id, chain: chain.chainId, amount: redemption.amount.toString() }, "redemption paid in DT");
        renewAttestation();
      },
      onFailed: (redemption) => {
        redemptions.inc({ ...label, outcome: "failed" });
        logger.error({ event: "stablecoin.redemption_failed", redemption: redemption.id, chain: chain.chainId, code: redemption.failureCode }, "redemption payout failed");
      },
    });
    return { chain, mintWorker, redeemWorker };
  });
  const firstContext = faultContexts.get(named("minter", first))!;
  // Moves between chains: every chain is a source (its MovedOut logs, after the confirmations a redemption
  // needs: a burn is final the same way) and a possible destination. The mints go through each chain's
  // mint worker above, so a process without a chain's minter key still follows and allots moves to it.
  const moveSources: MoveSource[] = chains.map((chain, index) => {
    const chainOptions = options.chains[index]!;
    return {
      chain,
      confirmations: chainOptions.redeemConfirmations ?? settings.redeemConfirmations,
      reorgWindow: chainOptions.reorgWindowBlocks ?? settings.reorgWindow,
      startBlock: chainOptions.startBlock ?? 0n,
    };
  });
  const moveWorker = new MoveWorker({
    db,
    ledger,
    sources: moveSources,
    settings: { segregatedAccount: options.segregatedAccount, maxBlockRange: 2000n, allotLeaseMs: 60_000, retryMs: 30_000, maxAttempts: settings.maxMintAttempts },
    clock: now,
    onSettled: (move) => {
      moves.inc({ outcome: move.state });
      logger.info({ event: `stablecoin.move_${move.state}`, move: move.id, from: move.sourceChainId, to: move.targetChainId, amount: move.amount.toString() }, `move ${move.state}`);
      renewAttestation();
    },
  });

  const onError = (name: string, error: unknown) => {
    const fault = stablecoinFaultOf(error, faultContexts.get(name) ?? firstContext);
    if (fault) workerFaults.report(name, fault);
    else logger.error({ err: error, event: "stablecoin.worker_error", worker: name }, `${name} step failed; retrying`);
  };
  const onStep = (name: string) => workerFaults.clear(name);
  const service = new StablecoinService({ db, exchanges, ledger, intakeAccount, chains: chains.map((chain) => ({ chainId: chain.chainId, token: chain.token })), clock: now });
  const rateLimiter = new RateLimiter(settings.exchangeRatePerSecond, settings.exchangeRatePerSecond * 10, options.clock);
  let started = false;
  return {
    routes: [
      stablecoinRoutes({ service, rateLimiter, onChange: wakeAll }),
      moveRoutes({ service, rateLimiter, onChange: wakeAll }),
      proofOfCollateralRoutes({ attestations }),
    ],
    readiness: [
      ...chains.map((chain) => ({ name: `stablecoin-chain (${chain.chainId})`, check: async () => void (await chain.head()) })),
      workerFaults.readiness("stablecoin-workers"),
    ],
    attestations,
    chains,
    chainOf: (chainId) => chains.find((chain) => chain.chainId === chainId),
    chain: first,
    exchanges,
    service,
    intakeAccount,
    start() {
      if (started) return;
      started = true;
      loops.push(startPollingLoop("deposit-follower", () => follower.step(), { idleMs: 50, onError, onStep }));
      for (const { chain, mintWorker, redeemWorker } of workers) {
        if (mintWorker) loops.push(startPollingLoop(named("mint-worker", chain), async () => (await mintWorker.step()) !== "idle", { idleMs: settings.pollMs, onError, onStep }));
        loops.push(startPollingLoop(named("redeem-worker", chain), async () => (await redeemWorker.drain()) > 0, { idleMs: settings.pollMs, onError, onStep }));
      }
      loops.push(startPollingLoop("move-worker", async () => (await moveWorker.drain()) > 0, { idleMs: settings.pollMs, onError, onStep }));
      // Checked four times per interval; the database slot makes it one attestation per interval across processes.
      loops.push(startPollingLoop("attestation", async () => void (await attestations.renewForInterval(settings.attestationIntervalMs)), { idleMs: Math.max(1, Math.floor(settings.attestationIntervalMs / 4)), onError, onStep }));
    },
    async stop() {
      await Promise.all(loops.splice(0).map((loop) => loop.stop()));
    },
  };
}
