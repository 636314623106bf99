import { loadConfig } from "../config/config.ts";
import { startGateway } from "../gateway/run.ts";
import { checkPortsFree } from "../gateway/port-check.ts";
import { loadDeploymentSettings } from "../gateway/settings.ts";
import type { CommandIo, CommandModule } from "../core/cli-command.ts";

const help = `Usage: npx tenge-gateway start

Runs the gateway until SIGTERM or SIGINT: checks every setting, applies pending migrations, builds the
ports (external systems, or the embedded stack unless EMBEDDED=false), serves HTTP on HOST:PORT and prints
one line per feature and the URLs it serves. A bad or missing setting exits 2 with one line naming it.

Environment (see README "Configuration" and docs/deploy.md for every setting):
  HOST (127.0.0.1), PORT (8080), DATABASE_URL (PostgreSQL; unset = embedded PGlite under DATA_DIR),
  DATA_DIR (./.data), LOG_LEVEL (info), BODY_LIMIT_BYTES (1048576), SHUTDOWN_TIMEOUT_MS (10000),
  DATABASE_POOL_SIZE (10), SIGNATURE_MAX_SKEW_SECONDS (300), EMBEDDED (true without DATABASE_URL), PUBLIC_URL,
  TENGE_CONFIG_FILE (JSON file of the same variables, mode 0600), RATE_LIMIT_PER_SECOND (100) + RATE_LIMIT_BURST
  (200) per principal, VALIDATION_CONCURRENCY (1) + VALIDATION_QUEUE (8) for ISO 20022 validation
  Embedded:    EMBEDDED_CHAIN_HOST (127.0.0.1), EMBEDDED_CHAIN_PORT (8545; 0 picks a free port),
               EMBEDDED_CHAIN_BLOCK_INTERVAL_MS (1000; a block this often, 0 = only for transactions),
               EMBEDDED_PEER_PORT (8081: the foreign central bank's gateway), EMBEDDED_DT_LEDGER_PORT
               (8090: the DT ledger over HTTP); 0 picks a free port; the stablecoin's second chain
               (chain id 31338) listens on EMBEDDED_CHAIN_PORT + 1
  DT ledger:   DT_LEDGER_URL + DT_LEDGER_PARTICIPANT + DT_LEDGER_SIGNING_KEY[_FILE], or
               DT_LEDGER_IN_PROCESS=true + DT_LEDGER_PARTICIPANT + DT_LEDGER_OPERATOR_KEY[_FILE],
               DT_LEDGER_SWEEP_INTERVAL_MS (1000)
  Stablecoin:  one chain: STABLECOIN_DEPLOYMENTS_FILE, STABLECOIN_RPC_URL, STABLECOIN_MINTER_KEY[_FILE],
               STABLECOIN_MINT_CONFIRMATIONS (1), STABLECOIN_REDEEM_CONFIRMATIONS (2), STABLECOIN_REORG_WINDOW_BLOCKS;
               or any number: STABLECOIN_CHAINS (JSON array of {chainId, rpcUrl, token, htlc, startBlock,
               mintConfirmations, redeemConfirmations, reorgWindowBlocks}; the first is the default) with
               STABLECOIN_MINTER_KEY_<chainId>[_FILE] per chain; tokens must require issuance allotments;
               STABLECOIN_STUCK_AFTER_MS (120000), STABLECOIN_MAX_MINT_ATTEMPTS (5),
               STABLECOIN_POLL_MS (500), STABLECOIN_EXCHANGE_RATE_PER_SECOND (5), STABLECOIN_MINT_REQUEST_TTL_SECONDS (86400)
  Collateral:  COLLATERAL_ATTESTATION_KEY[_FILE], COLLATERAL_ATTESTATION_INTERVAL_SECONDS (30), COLLATERAL_PUBLIC_RPC_URL
  PvP:         PVP_AGENT_BIC, PVP_SECRET_KEY[_FILE], PVP_SIGNING_KEY[_FILE] + PVP_SIGNING_KEY_ID,
               PVP_FOREIGN_LEDGERS_FILE, PVP_RESPONDER_LEDGER (dt), PVP_HOME_CURRENCY (KZT), PVP_MAX_LOCK_SECONDS (86400),
               PVP_STATUS_REQUEST_AFTER_SECONDS (30), PVP_POLL_INTERVAL_MS (1000), PVP_LOCK_WINDOW_SECONDS,
               PVP_CLOCK_DRIFT_SECONDS, PVP_TIME_TO_ACT_SECONDS (the timelock policy; docs/pvp.md),
               PVP_SIGNING_KEY_VALID_FROM, PVP_NEXT_SIGNING_KEYS, PVP_RETIRING_SIGNING_KEYS (key rotation; docs/deploy.md)
  DvP:         DVP_SECURITIES_FILE (securities ledgers and holding keys; docs/dvp.md, docs/deploy.md)
  Secrets (X) come from X or X_FILE (mode 0600 or stricter).`;

async function run(args: string[], io: CommandIo): Promise<number> {
  if (args.length > 0) {
    io.err(`tenge-gateway start: unexpected argument "${args[0]}"; see --help`);
    return 2;
  }
  const config = loadConfig(io.env);
  // Every setting is checked before anything starts: a bad one exits 2 with one line naming it.
  const settings = loadDeploymentSettings(config, io.env);
  await checkPortsFree(config);
  const gateway = await startGateway(config, { env: io.env, settings });
  // The signal handlers are in place before "listening" is printed: whoever waits for that line may stop us at once.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      gateway.logger.info({ event: "shutdown", signal }, "shutting down: finishing in-flight work");
      const force = setTimeout(() => {
        gateway.logger.error({ event: "shutdown.timeout" }, "shutdown took too long; exiting");
        resolve(1);
      }, config.shutdownTimeoutMs);
      force.unref();
      gateway.close().then(
        () => {
          clearTimeout(force);
          resolve(0);
        },
        (error: unknown) => {
          gateway.logger.error({ err: error }, "shutdown failed");
          resolve(1);
        },
      );
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  io.out(`tenge-gateway listening on ${gateway.url}`);
  if (gateway.restart) io.out(`  ${gateway.restart}`);
  for (const feature of gateway.features) io.out(`  feature ${feature.name}: ${feature.on ? "on" : "off"} (${feature.detail})`);
  for (const [name, link] of Object.entries(gateway.links)) io.out(`  ${name.padEnd(18)} ${link}`);
  io.out("Press Ctrl+C to stop.");
  return stopped;
}

export default { help, run } satisfies CommandModule;
