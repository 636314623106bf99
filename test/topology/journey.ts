/**
 * The operator's journey through the topology: start the outside systems (two DT platforms, two chains),
 * configure and start the gateways, register the correspondents, then settle PvPs both ways, crash a
 * process, mint on both chains, move between them, redeem on both, verify the collateral over both and
 * restart everything. Every verdict on money is read from the ledgers (the DT
 * platforms and the chain), never from the gateways' own records.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, privateKeyToAddress } from "viem/accounts";
import { evmChain } from "../../src/evm/evm-chain.ts";
import { tengeStablecoinAbi } from "../../src/evm/generated/contracts.ts";
import { ed25519PrivateKey, ed25519RawPublicKey, generateEd25519 } from "../../src/identity/http-signature.ts";
import type { DatabaseSet } from "./databases.ts";
import { createOperatorKey, gatewayApi, jsonLine, restartGateway, secretFile, startGateway } from "./gateways.ts";
import { dtLegOutcomes, evmLegOutcomes, verdictOf, type LedgerView, type PvpVerdict } from "./ledger-verdicts.ts";
import { startLoadBalancer } from "./load-balancer.ts";
import { moveVerdicts, type MadeMove } from "./moves.ts";
import { FOREIGN_CB, hardhatKeys, issueForeignCbdc, NBK, startChain, startDtPlatform } from "./platform.ts";
import { sleep, type ProcessGroup } from "./processes.ts";

/** A short timelock policy (docs/pvp.md keeps it safe: 60 > 5 + 20, 5 <= 20 / 2), so the run takes minutes. */
const SHORT_TIMELOCK = { PVP_LOCK_WINDOW_SECONDS: "60", PVP_CLOCK_DRIFT_SECONDS: "5", PVP_TIME_TO_ACT_SECONDS: "20", PVP_STATUS_REQUEST_AFTER_SECONDS: "5" };

export interface JourneyContext {
  group: ProcessGroup;
  databases: DatabaseSet;
  directory: string;
  log(line: string): void;
}

export interface Summary {
  /** Chains the stablecoin was minted and redeemed on, each read from its own node. */
  chains: number;
  pvpsSettled: number;
  /** DvPs (the demo bond against DT) settled on both ledgers, instructed on one NBK process and affirmed on the other. */
  dvpsSettled: number;
  pvpsRefunded: number;
  violations: number;
  killedProcessRecovered: boolean;
  /** Moves from chain A to chain B minted on B exactly once and never back on A, read from both chains. */
  crossChainMoves: number;
  mints: number;
  redemptionsPaid: number;
  collateralVerified: boolean;
  restartKeptState: boolean;
}

/** What the run expects; any other figure is reported as a problem and fails the run. */
const EXPECTED = { settledAtLeast: 20, refunded: 2, mints: 3, redemptions: 2, dvpsSettledAtLeast: 5, chains: 2, crossChainMoves: 2 };

/** The two chains of the stablecoin: A (the default, also PvP's and DvP's chain) and B. */
const CHAIN_A = 31337;
const CHAIN_B = 31338;

/** One PvP as created: where its two legs live, so the ledgers can be asked about it. */
interface CreatedPvp {
  id: string;
  hashLock: Hex;
  initiator: "nbk" | "fcb";
  /** Created while the NBK process was killed, or refused on purpose. */
  group: "settle" | "refund" | "crash" | "after-restart";
}

const FINAL = ["SETTLED", "REFUNDED", "REJECTED"];
const hex32 = () => randomBytes(32).toString("hex");

export async function runJourney(context: JourneyContext): Promise<{ summary: Summary; problems: string[] }> {
  const { group, databases, directory, log } = context;
  const problems: string[] = [];
  mkdirSync(join(directory, "secrets"), { mode: 0o700 });

  // ---- the systems outside the gateways ------------------------------------------------------------------
  const nbkStatementKey = generatePrivateKey();
  const nbkDt = await startDtPlatform(group, databases, {
    name: "nbk-dt-ledger",
    operatorKey: nbkStatementKey,
    centralBank: { id: NBK, name: "National Bank of Kazakhstan" },
    bank: { id: "HSBKKZKX", name: "Halyk Bank" },
    gateway: { id: "TENGEGW", name: "Tenge Gateway" },
    accounts: {
      payer0: { by: "bank", kind: "individual", holderName: "Aigerim Nurlanovna", balance: 100_000_000n },
      payer1: { by: "bank", kind: "individual", holderName: "Daniyar Seitkali", balance: 100_000_000n },
      payer2: { by: "bank", kind: "legal_entity", holderName: "Astana Coffee LLP", balance: 100_000_000n },
      nbkSettlement: { by: "bank", kind: "legal_entity", holderName: "NBK PvP settlement account", balance: 500_000_000n },
      fcbLiquidity: { by: "bank", kind: "legal_entity", holderName: "Foreign central bank (liquidity account)", balance: 0n },
      exchange: { by: "bank", kind: "exchange", holderName: "Kazakhstan Stock Exchange", balance: 500_000_000n },
      sellingBroker: { by: "bank", kind: "legal_entity", holderName: "Selling broker", balance: 0n },
      buyingBroker: { by: "bank", kind: "legal_entity", holderName: "Buying broker", balance: 100_000_000n },
      segregatedWallet: { by: "gateway", kind: "segregated_wallet", holderName: "Tenge Gateway collateral wallet", balance: 0n },
    },
  });
  log(`NBK's DT platform at ${nbkDt.url}`);
  // The foreign central bank's own CBDC platform: where its PvP legs are held when it initiates.
  const fcbDt = await startDtPlatform(group, databases, {
    name: "fcb-ledger",
    operatorKey: generatePrivateKey(),
    centralBank: { id: FOREIGN_CB, name: "Foreign central bank" },
    bank: { id: "FCBANKAE", name: "Foreign commercial bank" },
    gateway: { id: "FCBGW", name: "Foreign central bank's gateway" },
    accounts: {
      fcbPayer: { by: "bank", kind: "legal_entity", holderName: "Foreign central bank PvP account", balance: 100_000_000n },
      nbkLiquidity: { by: "bank", kind: "legal_entity", holderName: "National Bank of Kazakhstan (liquidity account)", balance: 0n },
    },
  });
  log(`foreign central bank's ledger at ${fcbDt.url}`);

  // The minters pay gas: funded development accounts of the Hardhat nodes, [5] on chain A and [6] on B.
  const minterKeys = hardhatKeys(7).slice(5, 7) as [Hex, Hex];
  // Hardhat development accounts [7] and [8]: the selling and the buying broker's holdings of the demo bond.
  const [sellerHoldingKey, buyerHoldingKey] = hardhatKeys(9).slice(7, 9) as [Hex, Hex];
  // One collateral pool, two chains: both tokens take the same ledger operator's statements of the same wallet.
  // Each token mints only within the DT ledger's allotment for its chain (`contracts deploy --require-issuance-allotments`).
  const pool = {
    collateralSigner: privateKeyToAddress(nbkStatementKey),
    segregatedAccount: nbkDt.accounts.segregatedWallet,
    deploymentsDir: join(directory, "deployments"),
    allotmentOptions: ["--require-issuance-allotments"],
  };
  const chain = await startChain(group, {
    ...pool,
    name: "hardhat-node-a",
    chainId: CHAIN_A,
    minter: privateKeyToAddress(minterKeys[0]),
    demoForeignCbdc: true,
    bondHolders: [{ address: privateKeyToAddress(sellerHoldingKey), units: 1_000n }, { address: privateKeyToAddress(buyerHoldingKey), units: 0n }],
  });
  const chainB = await startChain(group, { ...pool, name: "hardhat-node-b", chainId: CHAIN_B, minter: privateKeyToAddress(minterKeys[1]) });
  const chains = [chain, chainB] as const;
  const deploymentsFile = join(chain.deploymentsDir, `${chain.chainId}.json`);
  const foreignCbdc = chain.foreignCbdc!;
  log(`chain ${chain.chainId} at ${chain.rpcUrl}: token ${chain.token}, HTLC ${chain.htlc}, foreign CBDC ${foreignCbdc}`);
  log(`chain ${chainB.chainId} at ${chainB.rpcUrl}: token ${chainB.token}, HTLC ${chainB.htlc}`);
  // Hardhat development accounts: [1] pays the foreign central bank's EVM legs, [2] is the NBK's account
  // there, [3] is the exchange's address.
  const fcbEvmPayerKey = chain.keys[1]!;
  const nbkEvmAccount = privateKeyToAddress(chain.keys[2]!);
  const exchangeKey = chain.keys[3]!;
  await issueForeignCbdc(chain, [privateKeyToAddress(fcbEvmPayerKey)], 100_000_000n);

  // ---- the gateways, configured as docs/deploy.md says -----------------------------------------------------
  const nbkDatabase = await databases.create("nbk_gateway");
  const fcbDatabase = await databases.create("fcb_gateway");
  const nbkMessageKey = generateEd25519();
  const fcbMessageKey = generateEd25519();
  const publicHex = (seed: Uint8Array) => Buffer.from(ed25519RawPublicKey(ed25519PrivateKey(seed))).toString("hex");
  // The securities ledger of DvP (docs/deploy.md): the demo bond deployed above, the brokers' holding keys in 0600 files.
  const securitiesFile = join(directory, "nbk-securities.json");
  writeFileSync(
    securitiesFile,
    JSON.stringify({
      securities: {
        rpcUrl: chain.rpcUrl,
        chainId: chain.chainId,
        deploymentsFile,
        holdingKeys: [{ file: secretFile(directory, "seller-holding-key", sellerHoldingKey) }, { file: secretFile(directory, "buyer-holding-key", buyerHoldingKey) }],
      },
    }),
  );
  const nbkEnv: Record<string, string> = {
    DATABASE_URL: nbkDatabase,
    LOG_LEVEL: "warn",
    DT_LEDGER_URL: nbkDt.url,
    DT_LEDGER_PARTICIPANT: nbkDt.gateway.id,
    DT_LEDGER_SIGNING_KEY_FILE: secretFile(directory, "nbk-dt-ledger-seed", nbkDt.gateway.seedHex),
    // The stablecoin's chains (docs/deploy.md): addresses from each chain's deployments file, a minter key file per chain.
    STABLECOIN_CHAINS: JSON.stringify(
      chains.map((each) => ({ chainId: each.chainId, rpcUrl: each.rpcUrl, token: each.token, htlc: each.htlc, startBlock: Number(each.tokenBlock), mintConfirmations: 1, redeemConfirmations: 1 })),
    ),
    [`STABLECOIN_MINTER_KEY_${CHAIN_A}_FILE`]: secretFile(directory, `nbk-minter-key-${CHAIN_A}`, minterKeys[0]),
    [`STABLECOIN_MINTER_KEY_${CHAIN_B}_FILE`]: secretFile(directory, `nbk-minter-key-${CHAIN_B}`, minterKeys[1]),
    COLLATERAL_ATTESTATION_KEY_FILE: secretFile(directory, "nbk-attestation-key", hex32()),
    COLLATERAL_ATTESTATION_INTERVAL_SECONDS: "5",
    STABLECOIN_POLL_MS: "200",
    PVP_AGENT_BIC: NBK,
    PVP_SIGNING_KEY_FILE: secretFile(directory, "nbk-message-key", Buffer.from(nbkMessageKey.seed).toString("hex")),
    PVP_SIGNING_KEY_ID: `${NBK}-topology-1`,
    PVP_SECRET_KEY_FILE: secretFile(directory, "nbk-preimage-key", hex32()),
    PVP_POLL_INTERVAL_MS: "250",
    DVP_SECURITIES_FILE: securitiesFile,
    ...SHORT_TIMELOCK,
  };
  const ledgersFile = join(directory, "fcb-foreign-ledgers.json");
  writeFileSync(
    ledgersFile,
    JSON.stringify({
      "evm:fcb": {
        rpcUrl: chain.rpcUrl,
        chainId: chain.chainId,
        deploymentsFile,
        confirmations: 1,
        tokens: { AED: { address: foreignCbdc, decimals: 2 } },
        payerKeys: [{ file: secretFile(directory, "fcb-evm-payer-key", fcbEvmPayerKey) }],
      },
    }),
  );
  const fcbEnv: Record<string, string> = {
    DATABASE_URL: fcbDatabase,
    LOG_LEVEL: "warn",
    DT_LEDGER_URL: fcbDt.url,
    DT_LEDGER_PARTICIPANT: fcbDt.gateway.id,
    DT_LEDGER_SIGNING_KEY_FILE: secretFile(directory, "fcb-ledger-seed", fcbDt.gateway.seedHex),
    PVP_AGENT_BIC: FOREIGN_CB,
    // Its own ledger service stands for the foreign central bank's home CBDC ledger, in dirhams.
    PVP_HOME_CURRENCY: "AED",
    PVP_SIGNING_KEY_FILE: secretFile(directory, "fcb-message-key", Buffer.from(fcbMessageKey.seed).toString("hex")),
    PVP_SIGNING_KEY_ID: `${FOREIGN_CB}-topology-1`,
    PVP_SECRET_KEY_FILE: secretFile(directory, "fcb-preimage-key", hex32()),
    PVP_FOREIGN_LEDGERS_FILE: ledgersFile,
    PVP_RESPONDER_LEDGER: "evm:fcb",
    PVP_POLL_INTERVAL_MS: "250",
    ...SHORT_TIMELOCK,
  };
  // The NBK's processes sit behind one load balancer: signed requests are addressed to its authority, so that is
  // their PUBLIC_URL (without it each would accept only its own listening address).
  const balancer = await startLoadBalancer([]);
  const nbkBehindBalancer = { ...nbkEnv, PUBLIC_URL: balancer.url };
  // Both NBK processes start at once on one database: migrations run once under the advisory lock.
  let [nbkA, nbkB, fcb] = await Promise.all([
    startGateway(group, "nbk-gateway-a", nbkBehindBalancer),
    startGateway(group, "nbk-gateway-b", nbkBehindBalancer),
    startGateway(group, "fcb-gateway", fcbEnv),
  ]);
  balancer.setUpstreams([nbkA.port, nbkB.port]);
  try {
    log(`NBK gateways ${nbkA.url} and ${nbkB.url} behind ${balancer.url}; foreign central bank's gateway ${fcb.url}`);
    const nbkOperator = await createOperatorKey(group, "nbk", nbkDatabase);
    const fcbOperator = await createOperatorKey(group, "fcb", fcbDatabase);
    const nbk = gatewayApi(() => balancer.url, nbkOperator);
    const fcbApi = gatewayApi(() => fcb.url, fcbOperator);

    // ---- each central bank registers the other as its correspondent ------------------------------------
    // The NBK's operator uses the CLI on its database; the foreign one the CLI against its running gateway.
    await group.runCli(
      "nbk-correspondents-add",
      ["correspondents", "add", "--bic", FOREIGN_CB, "--name", "Foreign central bank", "--base-url", fcb.url, "--public-key", publicHex(fcbMessageKey.seed), "--key-id", `${FOREIGN_CB}-topology-1`, "--liquidity-account", nbkDt.accounts.nbkSettlement, "--settlement-account", nbkDt.accounts.fcbLiquidity],
      { DATABASE_URL: nbkDatabase, LOG_LEVEL: "warn" },
    );
    await group.runCli(
      "fcb-correspondents-add",
      ["correspondents", "add", "--gateway", fcb.url, "--bic", NBK, "--name", "National Bank of Kazakhstan", "--base-url", balancer.url, "--public-key", publicHex(nbkMessageKey.seed), "--key-id", `${NBK}-topology-1`, "--liquidity-account", privateKeyToAddress(fcbEvmPayerKey), "--settlement-account", nbkEvmAccount],
      { TENGE_API_KEY: fcbOperator, LOG_LEVEL: "warn" },
    );

    const pvps: CreatedPvp[] = [];
    let sequence = 0;
    /** NBK initiates: a customer's DT against the foreign central bank's CBDC on its EVM ledger. */
    const nbkInitiates = async (via: (typeof nbk), groupName: CreatedPvp["group"], options: { foreignAmount?: string; expiries?: { dt: Date; foreign: Date } } = {}) => {
      const payer = [nbkDt.accounts.payer0, nbkDt.accounts.payer1, nbkDt.accounts.payer2][sequence++ % 3]!;
      const created = await via<{ id: string; hashLock: Hex; code?: string; message?: string }>("POST", "/pvp", {
        counterpartyAgent: FOREIGN_CB,
        dtLeg: { payer, beneficiary: nbkDt.accounts.fcbLiquidity, amount: "1500.00", currency: "KZT", ...(options.expiries ? { expiresAt: options.expiries.dt.toISOString() } : {}) },
        foreignLeg: { ledger: `peer:${FOREIGN_CB}`, payer: FOREIGN_CB, beneficiary: NBK, amount: options.foreignAmount ?? "11.25", currency: "AED", ...(options.expiries ? { expiresAt: options.expiries.foreign.toISOString() } : {}) },
      });
      if (created.status !== 201) throw new Error(`NBK POST /pvp answered ${created.status}: ${JSON.stringify(created.body)}`);
      const pvp: CreatedPvp = { id: created.body.id, hashLock: created.body.hashLock, initiator: "nbk", group: groupName };
      pvps.push(pvp);
      return pvp;
    };
    /** The foreign central bank initiates: its CBDC on its own ledger against DT from the NBK. */
    const fcbInitiates = async (groupName: CreatedPvp["group"]) => {
      const created = await fcbApi<{ id: string; hashLock: Hex }>("POST", "/pvp", {
        counterpartyAgent: NBK,
        dtLeg: { payer: fcbDt.accounts.fcbPayer, beneficiary: fcbDt.accounts.nbkLiquidity, amount: "9.80", currency: "AED" },
        foreignLeg: { ledger: `peer:${NBK}`, payer: NBK, beneficiary: FOREIGN_CB, amount: "1300.00", currency: "KZT" },
      });
      if (created.status !== 201) throw new Error(`foreign POST /pvp answered ${created.status}: ${JSON.stringify(created.body)}`);
      const pvp: CreatedPvp = { id: created.body.id, hashLock: created.body.hashLock, initiator: "fcb", group: groupName };
      pvps.push(pvp);
      return pvp;
    };
    const stateOf = async (pvp: CreatedPvp): Promise<string> => {
      const answer = await (pvp.initiator === "nbk" ? nbk : fcbApi)<{ state: string }>("GET", `/pvp/${pvp.id}`);
      return answer.status === 200 ? answer.body.state : `HTTP ${answer.status}`;
    };
    const waitFinal = async (batch: CreatedPvp[], timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const states = await Promise.all(batch.map((pvp) => stateOf(pvp).catch(() => "unreachable")));
        const open = states.filter((state) => !FINAL.includes(state));
        if (open.length === 0) return;
        if (Date.now() > deadline) throw new Error(`${open.length} PvPs not finished after ${timeoutMs} ms: ${open.join(", ")}`);
        await sleep(500);
      }
    };

    // ---- PvPs the foreign side must refuse: more CBDC than its payer holds -----------------------------------
    // They are refunded only once the DT hold expires (the DT ledger refunds at expiry, never earlier), so
    // they start first, with the shortest expiries the short timelock policy accepts.
    const now = Date.now();
    const foreignExpiry = new Date(now + 75_000);
    const refundExpiries = { foreign: foreignExpiry, dt: new Date(foreignExpiry.getTime() + 40_000) };
    for (let i = 0; i < EXPECTED.refunded; i++) await nbkInitiates(nbk, "refund", { foreignAmount: "5000000.00", expiries: refundExpiries });
    log(`${EXPECTED.refunded} PvPs the foreign side refuses; their DT holds expire at ${refundExpiries.dt.toISOString()}`);

    // ---- at least 20 PvPs settled, both sides initiating -----------------------------------------------------
    const settleBatch: CreatedPvp[] = [];
    for (let i = 0; i < 14; i++) settleBatch.push(await nbkInitiates(nbk, "settle"));
    for (let i = 0; i < 8; i++) settleBatch.push(await fcbInitiates("settle"));
    await waitFinal(settleBatch, 180_000);
    log(`${settleBatch.length} PvPs finished`);

    // ---- kill -9 one NBK process while PvPs are in flight ------------------------------------------------------
    const nbkADirect = gatewayApi(() => nbkA.url, nbkOperator);
    const crashBatch: CreatedPvp[] = [];
    for (let i = 0; i < 6; i++) crashBatch.push(await nbkInitiates(nbkADirect, "crash"));
    for (let i = 0; i < 2; i++) crashBatch.push(await fcbInitiates("crash"));
    // Kill once process A has acted on some of them (a DT hold placed), and before they all finish.
    await until(async () => (await Promise.all(crashBatch.slice(0, 6).map(stateOf))).some((state) => state !== "INITIATED"), 10_000, "process A to take up the PvPs").catch(() => {});
    await group.kill9(nbkA.process);
    const inFlight = (await Promise.all(crashBatch.map(stateOf))).filter((state) => !FINAL.includes(state)).length;
    log(`killed ${nbkA.name} (kill -9) with ${inFlight} of ${crashBatch.length} PvPs in flight`);
    let crashRecovered = inFlight > 0;
    if (inFlight === 0) problems.push("no PvP was in flight when the NBK process was killed");
    try {
      await waitFinal(crashBatch, 180_000);
    } catch (error) {
      crashRecovered = false;
      problems.push(`after the kill: ${(error as Error).message}`);
    }
    nbkA = await startGateway(group, nbkA.name, nbkA.env, nbkA.port);

    // ---- brokers trade the demo bond for DT (DvP): instructed on one NBK process, affirmed on the other ------------
    const brokers = {} as Record<"seller" | "buyer", { bic: string; holding: string; cashAccount: string; key: string }>;
    for (const [side, bic, holdingKey, cashAccount] of [["seller", "BRKSKZKA", sellerHoldingKey, nbkDt.accounts.sellingBroker], ["buyer", "BRKBKZKA", buyerHoldingKey, nbkDt.accounts.buyingBroker]] as const) {
      const created = jsonLine<{ apiKey: string }>(
        await group.runCli(`keys-create-broker-${side}`, ["keys", "create", "--role", "broker", "--name", `Topology ${side}`, "--bic", bic, "--dt-participant", nbkDt.bank.id], { DATABASE_URL: nbkDatabase, LOG_LEVEL: "warn" }),
      );
      await group.runCli(`ledger-account-${side}`, ["keys", "ledger-account", "--bic", bic, "--ledger", "securities", "--account", privateKeyToAddress(holdingKey)], { DATABASE_URL: nbkDatabase, LOG_LEVEL: "warn" });
      brokers[side] = { bic, holding: privateKeyToAddress(holdingKey), cashAccount, key: created.apiKey };
    }
    const buyerOnA = gatewayApi(() => nbkA.url, brokers.buyer.key);
    const sellerOnB = gatewayApi(() => nbkB.url, brokers.seller.key);
    const party = (side: "seller" | "buyer") => ({ bic: brokers[side].bic, holding: brokers[side].holding, cashAccount: brokers[side].cashAccount });
    const dvps: Array<{ id: string; hashLock: Hex }> = [];
    for (let i = 0; i < 6; i++) {
      const created = await buyerOnA<{ id: string; hashLock: Hex }>("POST", "/dvp", { side: "buyer", isin: "KZKD00001020", quantity: "5", amount: "50000.00", seller: party("seller"), buyer: party("buyer") });
      if (created.status !== 201) throw new Error(`POST /dvp answered ${created.status}: ${JSON.stringify(created.body)}`);
      const affirmed = await sellerOnB("POST", `/dvp/${created.body.id}/affirm`, {});
      if (affirmed.status !== 202) throw new Error(`POST /dvp/${created.body.id}/affirm answered ${affirmed.status}: ${JSON.stringify(affirmed.body)}`);
      dvps.push(created.body);
    }
    const dvpDeadline = Date.now() + 180_000;
    for (;;) {
      const states = await Promise.all(dvps.map(async (dvp) => (await nbk<{ state: string }>("GET", `/dvp/${dvp.id}`)).body.state));
      if (states.every((state) => FINAL.includes(state))) break;
      if (Date.now() > dvpDeadline) {
        problems.push(`DvPs not finished: ${states.join(", ")}`);
        break;
      }
      await sleep(500);
    }
    log(`${dvps.length} DvPs finished`);

    // ---- an exchange mints on both chains and redeems on both, against the DT platform ---------------------------
    const onboarded = jsonLine<{ apiKey: string }>(
      await group.runCli(
        "exchanges-create",
        ["exchanges", "create", "--name", "Kazakhstan Stock Exchange", "--dt-account", nbkDt.accounts.exchange, "--evm-address", privateKeyToAddress(exchangeKey), "--per-mint-limit", "1000000.00", "--daily-limit", "5000000.00"],
        { DATABASE_URL: nbkDatabase, LOG_LEVEL: "warn" },
      ),
    );
    const exchange = gatewayApi(() => balancer.url, onboarded.apiKey);
    const onChain = chains.map((each) => {
      const evm = evmChain(each.chainId, each.rpcUrl);
      const client = createPublicClient({ chain: evm, transport: http(each.rpcUrl) });
      return {
        chain: each,
        client,
        wallet: createWalletClient({ account: privateKeyToAccount(exchangeKey), chain: evm, transport: http(each.rpcUrl) }),
        balance: () => client.readContract({ address: each.token, abi: tengeStablecoinAbi, functionName: "balanceOf", args: [privateKeyToAddress(exchangeKey)] }),
      };
    });
    const [onA, onB] = onChain as [(typeof onChain)[number], (typeof onChain)[number]];
    // A chain the deployment does not serve is refused before anything is written.
    const unknownChain = await exchange<{ code?: string }>("POST", "/stablecoin/mints", { amount: "1.00", chainId: 999_999 });
    if (unknownChain.status !== 422 || unknownChain.body.code !== "UNKNOWN_CHAIN") problems.push(`a mint on an unknown chain answered ${unknownChain.status} ${JSON.stringify(unknownChain.body)}`);
    // Two mints on chain A (the default: no chainId), one on chain B.
    const mintPlan: Array<{ amount: bigint; chainId?: number }> = [{ amount: 25_000_000n }, { amount: 10_000_000n }, { amount: 5_000_050n, chainId: CHAIN_B }];
    const mintIds: string[] = [];
    for (const { amount, chainId } of mintPlan) {
      const requested = await exchange<{ id: string; chainId: number; reference: string; payment: { toAccount: string } }>("POST", "/stablecoin/mints", { amount: (Number(amount) / 100).toFixed(2), ...(chainId ? { chainId } : {}) });
      if (requested.status !== 201) throw new Error(`POST /stablecoin/mints answered ${requested.status}: ${JSON.stringify(requested.body)}`);
      if (requested.body.chainId !== (chainId ?? CHAIN_A)) problems.push(`mint ${requested.body.id} is on chain ${requested.body.chainId}, asked ${chainId ?? `the default ${CHAIN_A}`}`);
      mintIds.push(requested.body.id);
      // The exchange's bank pays the DT into the account the mint names (the gateway's collateral intake).
      await nbkDt.bank.ledger.transfer({ idempotencyKey: `topology:mint:${requested.body.id}`, from: nbkDt.accounts.exchange, to: requested.body.payment.toAccount, amount, reference: requested.body.reference });
    }
    const mintedOn = (chainId: number) => mintPlan.filter((mint) => (mint.chainId ?? CHAIN_A) === chainId).reduce((sum, mint) => sum + mint.amount, 0n);
    for (const each of onChain) await until(async () => (await each.balance()) === mintedOn(each.chain.chainId), 120_000, `the minted tokens on chain ${each.chain.chainId}`);
    // The tokens show before the gateway records its mints as final (after the chain's confirmations).
    const mintedStates = async () => Promise.all(mintIds.map(async (id) => (await exchange<{ state: string }>("GET", `/stablecoin/mints/${id}`)).body.state));
    await until(async () => (await mintedStates()).every((state) => state === "minted"), 60_000, "the mints recorded as minted").catch(() => {});
    const mints = (await mintedStates()).filter((state) => state === "minted").length;
    log(`${mints} mints on chain, ${mintedOn(CHAIN_A)} units on ${CHAIN_A} and ${mintedOn(CHAIN_B)} on ${CHAIN_B}`);

    // ---- the exchange moves stablecoin from A to B: moveOut on A with its own key, the gateway mints on B ----------
    const exchangeAddress = privateKeyToAddress(exchangeKey);
    const madeMoves: MadeMove[] = [];
    const moveOut = async (amount: bigint, recipient: typeof exchangeAddress, expectRefund: boolean) => {
      const hash = await onA.wallet.writeContract({ address: chain.token, abi: tengeStablecoinAbi, functionName: "moveOut", args: [amount, BigInt(CHAIN_B), recipient] });
      const receipt = await onA.client.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`moveOut ${hash} reverted`);
      madeMoves.push({ txHash: hash, holder: exchangeAddress, amount, from: chain, to: chainB, recipient, expectRefund });
    };
    type MoveItem = { txHash: string; state: string };
    const movesListed = async () => (await exchange<{ items: MoveItem[] }>("GET", "/stablecoin/moves?limit=100")).body.items;
    // The first is in flight when one NBK process is killed (kill -9): the other, or it once restarted, completes it once.
    await moveOut(8_000_000n, exchangeAddress, false);
    await group.kill9(nbkB.process);
    const atKill = (await movesListed()).find((move) => move.txHash === madeMoves[0]!.txHash)?.state ?? "not seen yet";
    log(`killed ${nbkB.name} (kill -9) with the first move ${atKill}`);
    nbkB = await startGateway(group, nbkB.name, nbkB.env, nbkB.port);
    await moveOut(1_500_000n, exchangeAddress, false);
    // To an address the exchange never registered: the gateway refunds it on A.
    await moveOut(250_000n, privateKeyToAddress(chain.keys[4]!), true);
    const settledMoves = () => movesListed().then((items) => madeMoves.every((made) => items.some((move) => move.txHash.toLowerCase() === made.txHash.toLowerCase() && ["moved", "refunded"].includes(move.state))));
    await until(settledMoves, 180_000, "the moves to settle").catch((error: unknown) => problems.push(`moves: ${(error as Error).message}`));
    const moveOutcomes = await moveVerdicts(madeMoves, new Map([[CHAIN_A, privateKeyToAddress(minterKeys[0])], [CHAIN_B, privateKeyToAddress(minterKeys[1])]]));
    for (const verdict of moveOutcomes) {
      if (verdict.outcome !== (verdict.move.expectRefund ? "refunded" : "moved")) {
        problems.push(`move ${verdict.move.txHash} of ${verdict.move.amount}: ${verdict.outcome} (burned ${verdict.burned}, minted on B ${verdict.mintedOnDestination}, back on A ${verdict.mintedBack})`);
      }
    }
    const crossChainMoves = moveOutcomes.filter((verdict) => verdict.outcome === "moved").length;
    log(`${crossChainMoves} moves minted on ${CHAIN_B}, ${moveOutcomes.filter((verdict) => verdict.outcome === "refunded").length} refunded on ${CHAIN_A}`);
    // What each chain's supply must be, from what the run did there.
    const movedNet = (chainId: number) =>
      moveOutcomes.reduce((sum, { move, burned, mintedOnDestination, mintedBack }) => {
        const out = burned && move.from.chainId === chainId ? move.amount : 0n;
        const back = move.from.chainId === chainId ? BigInt(mintedBack) * move.amount : 0n;
        const arrived = move.to.chainId === chainId ? BigInt(mintedOnDestination) * move.amount : 0n;
        return sum - out + back + arrived;
      }, 0n);

    // Each chain's holder redeems there (on B more than B minted: the moved tokens); every payout comes from the one wallet.
    const dtBefore = (await nbkDt.bank.ledger.balance(nbkDt.accounts.exchange)).available;
    const redeemPlan = [{ on: onA, amount: 3_000_000n }, { on: onB, amount: crossChainMoves > 0 ? 7_000_000n : 4_000_000n }];
    for (const { on, amount } of redeemPlan) {
      const hash = await on.wallet.writeContract({ address: on.chain.token, abi: tengeStablecoinAbi, functionName: "redeem", args: [amount, nbkDt.accounts.exchange] });
      await on.client.waitForTransactionReceipt({ hash });
    }
    const redeemedTotal = redeemPlan.reduce((sum, redemption) => sum + redemption.amount, 0n);
    await until(async () => (await nbkDt.bank.ledger.balance(nbkDt.accounts.exchange)).available - dtBefore === redeemedTotal, 120_000, "the redemptions paid in DT");
    const redemptions = (await exchange<{ items: Array<{ state: string; chainId: number }> }>("GET", "/stablecoin/redemptions")).body.items;
    const paid = redemptions.filter((redemption) => redemption.state === "paid");
    const redemptionsPaid = paid.length;
    log(`${redemptionsPaid} redemptions paid in DT (chains ${paid.map((redemption) => redemption.chainId).join(", ")}), ${redeemedTotal} tiyn`);
    // A chain counts once the supply its own node shows is what was minted, moved in and out, and redeemed
    // there, and a redemption there was paid.
    const chainsServed: number[] = [];
    for (const each of onChain) {
      const supply = await each.client.readContract({ address: each.chain.token, abi: tengeStablecoinAbi, functionName: "totalSupply" });
      const redeemedHere = redeemPlan.filter((redemption) => redemption.on === each).reduce((sum, redemption) => sum + redemption.amount, 0n);
      const expected = mintedOn(each.chain.chainId) + movedNet(each.chain.chainId) - redeemedHere;
      if (supply === expected && paid.some((redemption) => redemption.chainId === each.chain.chainId)) chainsServed.push(each.chain.chainId);
      else problems.push(`chain ${each.chain.chainId}: supply ${supply}, expected ${expected} (minted ${mintedOn(each.chain.chainId)}, moved ${movedNet(each.chain.chainId)}, redeemed ${redeemedHere})`);
    }

    // ---- anyone verifies the collateral against the gateway and the chains ----------------------------------------
    await sleep(6_000); // one attestation interval, so the latest attestation has seen the redemptions
    let collateralVerified = false;
    try {
      // Every chain through its own node, as a visitor with their own RPC endpoints would.
      const rpcs = chains.flatMap((each) => ["--rpc", `${each.chainId}=${each.rpcUrl}`]);
      const output = await group.runCli("collateral-verify", ["collateral", "verify", "--url", balancer.url, ...rpcs], { LOG_LEVEL: "warn" });
      const verifiedChains = chains.filter((each) => output.includes(`chain ${each.chainId}: supply`)).length;
      collateralVerified = output.includes("VERIFIED") && !output.includes("NOT VERIFIED") && verifiedChains === chains.length;
      if (verifiedChains !== chains.length) problems.push(`collateral verify covered ${verifiedChains} of ${chains.length} chains:\n${output.trim().split("\n").slice(-8).join("\n")}`);
      // The attestation anyone reads lists both chains, with the total the sum of theirs.
      const published = await fetch(`${balancer.url}/proof-of-collateral`).then((response) => response.json() as Promise<{ attestation?: { chains?: Array<{ chainId: number; supply: string }>; totalSupply?: string } }>);
      const attested = published.attestation?.chains ?? [];
      const attestedTotal = attested.reduce((sum, each) => sum + BigInt(each.supply), 0n);
      if (attested.length !== chains.length || String(attestedTotal) !== published.attestation?.totalSupply) {
        problems.push(`GET /proof-of-collateral lists chains ${attested.map((each) => each.chainId).join(", ")} with total ${published.attestation?.totalSupply}`);
        collateralVerified = false;
      }
    } catch (error) {
      problems.push(`collateral verify: ${(error as Error).message}`);
    }

    // ---- the refused PvPs end refunded once their holds expire ------------------------------------------------
    const refundBatch = pvps.filter((pvp) => pvp.group === "refund");
    log(`waiting for the refunds (DT holds expire at ${refundExpiries.dt.toISOString()})`);
    await waitFinal(refundBatch, Math.max(0, refundExpiries.dt.getTime() - Date.now()) + 120_000).catch((error: unknown) => problems.push(`refunds: ${(error as Error).message}`));

    // ---- every gateway process restarts; all state is still there -------------------------------------------
    const snapshot = async () => ({
      nbkPvps: (await nbk<{ items: Array<{ id: string; state: string }> }>("GET", "/pvp?limit=500")).body.items.map((pvp) => `${pvp.id}:${pvp.state}`).sort(),
      fcbPvps: (await fcbApi<{ items: Array<{ id: string; state: string }> }>("GET", "/pvp?limit=500")).body.items.map((pvp) => `${pvp.id}:${pvp.state}`).sort(),
      mints: (await exchange<{ items: Array<{ id: string; state: string }> }>("GET", "/stablecoin/mints")).body.items.map((mint) => `${mint.id}:${mint.state}`).sort(),
      redemptions: (await exchange<{ items: Array<{ id: string; state: string }> }>("GET", "/stablecoin/redemptions")).body.items.map((redemption) => `${redemption.id}:${redemption.state}`).sort(),
      moves: (await exchange<{ items: Array<{ id: string; state: string }> }>("GET", "/stablecoin/moves?limit=100")).body.items.map((move) => `${move.id}:${move.state}`).sort(),
      nbkCorrespondents: (await nbk<{ items: Array<{ bic: string }> }>("GET", "/operator/correspondents")).body.items.map((each) => each.bic).sort(),
      fcbCorrespondents: (await fcbApi<{ items: Array<{ bic: string }> }>("GET", "/operator/correspondents")).body.items.map((each) => each.bic).sort(),
    });
    const before = await snapshot();
    [nbkA, nbkB, fcb] = [await restartGateway(group, nbkA), await restartGateway(group, nbkB), await restartGateway(group, fcb)];
    const after = await snapshot();
    let restartKeptState = JSON.stringify(before) === JSON.stringify(after) && before.nbkPvps.length === pvps.length;
    if (!restartKeptState) problems.push(`state before and after the restart differs: ${JSON.stringify({ before, after })}`);
    // The restarted gateways still work: the same keys, the same correspondents, a new PvP each way.
    const late = [await nbkInitiates(nbk, "after-restart"), await fcbInitiates("after-restart")];
    try {
      await waitFinal(late, 120_000);
    } catch (error) {
      restartKeptState = false;
      problems.push(`after the restart: ${(error as Error).message}`);
    }

    // ---- the verdicts, from the ledgers ----------------------------------------------------------------------------
    const views: Record<"nbkDt" | "fcbDt" | "evm", LedgerView> = {
      nbkDt: await dtLegOutcomes(nbkDt.centralBank.ledger),
      fcbDt: await dtLegOutcomes(fcbDt.centralBank.ledger),
      evm: await evmLegOutcomes(chain.rpcUrl, chain.htlc),
    };
    const verdicts = new Map<CreatedPvp, PvpVerdict>(
      pvps.map((pvp) => [pvp, pvp.initiator === "nbk" ? verdictOf(pvp.hashLock, views.nbkDt, views.evm) : verdictOf(pvp.hashLock, views.fcbDt, views.nbkDt)]),
    );
    const count = (outcome: PvpVerdict["outcome"], groupName?: CreatedPvp["group"]) =>
      [...verdicts].filter(([pvp, verdict]) => verdict.outcome === outcome && (groupName === undefined || pvp.group === groupName)).length;
    for (const [pvp, verdict] of verdicts) {
      if (verdict.outcome === "violation" || verdict.outcome === "unfinished") problems.push(`PvP ${pvp.id} (${pvp.group}): DT leg ${verdict.dt}, foreign leg ${verdict.foreign}`);
    }
    if (crashBatch.some((pvp) => !["settled", "refunded"].includes(verdicts.get(pvp)!.outcome))) crashRecovered = false;
    // A DvP's cash leg is a DT hold on the NBK's platform, its securities leg the bond locked in the same HTLC.
    const dvpVerdicts = dvps.map((dvp) => verdictOf(dvp.hashLock, views.nbkDt, views.evm));
    for (const [index, verdict] of dvpVerdicts.entries()) {
      if (verdict.outcome === "violation" || verdict.outcome === "unfinished") problems.push(`DvP ${dvps[index]!.id}: cash leg ${verdict.dt}, securities leg ${verdict.foreign}`);
    }
    const summary: Summary = {
      chains: chainsServed.length,
      pvpsSettled: count("settled"),
      dvpsSettled: dvpVerdicts.filter((verdict) => verdict.outcome === "settled").length,
      pvpsRefunded: count("refunded"),
      violations: count("violation") + count("unfinished") + dvpVerdicts.filter((verdict) => verdict.outcome === "violation" || verdict.outcome === "unfinished").length,
      killedProcessRecovered: crashRecovered,
      crossChainMoves,
      mints,
      redemptionsPaid,
      collateralVerified,
      restartKeptState,
    };
    if (summary.chains !== EXPECTED.chains) problems.push(`chains ${summary.chains} != ${EXPECTED.chains}`);
    if (summary.crossChainMoves !== EXPECTED.crossChainMoves) problems.push(`crossChainMoves ${summary.crossChainMoves} != ${EXPECTED.crossChainMoves}`);
    if (summary.pvpsSettled < EXPECTED.settledAtLeast) problems.push(`pvpsSettled ${summary.pvpsSettled} < ${EXPECTED.settledAtLeast}`);
    if (count("refunded", "refund") !== EXPECTED.refunded) problems.push(`refused PvPs refunded: ${count("refunded", "refund")} of ${EXPECTED.refunded}`);
    if (summary.violations !== 0) problems.push(`violations ${summary.violations}`);
    if (summary.dvpsSettled < EXPECTED.dvpsSettledAtLeast) problems.push(`dvpsSettled ${summary.dvpsSettled} < ${EXPECTED.dvpsSettledAtLeast}`);
    if (!summary.killedProcessRecovered) problems.push("killedProcessRecovered false");
    if (summary.mints !== EXPECTED.mints) problems.push(`mints ${summary.mints} != ${EXPECTED.mints}`);
    if (summary.redemptionsPaid !== EXPECTED.redemptions) problems.push(`redemptionsPaid ${summary.redemptionsPaid} != ${EXPECTED.redemptions}`);
    if (!summary.collateralVerified) problems.push("collateralVerified false");
    if (!summary.restartKeptState) problems.push("restartKeptState false");
    return { summary, problems };
  } finally {
    await balancer.close();
    for (const each of chains) each.stopTicker();
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}
