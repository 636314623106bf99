import type { Database } from "../../../src/persistence/database.ts";
import { InjectedCrash, PvpEngine, type CrashPoint, type FaultHooks } from "../../../src/pvp/engine.ts";
import { legDirectory } from "../../../src/pvp/leg-port.ts";
import { peerGatewayLeg } from "../../../src/pvp/legs/peer-gateway-leg.ts";
import { recordSentMessages } from "../../../src/pvp/message-log.ts";
import { statusRequestWatch } from "../../../src/pvp/status-requests.ts";
import { isTerminal } from "../../../src/pvp/state-machine.ts";
import { pvpStore } from "../../../src/pvp/store.ts";
import type { TimelockPolicy } from "../../../src/pvp/timelock-policy.ts";
import { FOREIGN_CB, NBK, VirtualClock } from "./harness.ts";
import { InProcessNetwork, seededRandom, type NetworkFaults } from "./in-process-network.ts";
import { SimulatedLedger } from "./simulated-ledger.ts";
import { SimulatedSecuritiesLedger } from "../dvp/simulated-securities.ts";
import { DvpDesk } from "../../../src/dvp/desk.ts";
import { dvpNotices } from "../../../src/dvp/notices.ts";

export interface FaultRunOptions {
  db: Database;
  seed: number;
  pvps: number;
  /** `chain`: the initiator drives both legs (EVM-like foreign leg); `peer`: two gateways exchange ISO 20022 messages. */
  mode: "chain" | "peer";
  /** Probability that a process dies at each crash point (before/after every transition and ledger command). */
  crashRate?: number;
  network?: NetworkFaults;
  /** Outages per simulated second: a ledger (or a gateway) goes down for up to 8 s. */
  outageRate?: number;
  /** PvPs created per round while creating. */
  batch?: number;
  /** Safety stop for the simulation loop (each round moves the virtual clock by at least 100 ms). */
  maxRounds?: number;
  /**
   * Chain mode: the share of exchanges created as DvPs (a simulated securities ledger against the DT cash
   * leg, through the DvP desk with its compliance pre-check); default 0.
   */
  dvpShare?: number;
  /** Peer mode: silence after which the initiator asks the responder with a status request (default 5 s; 0 = never). */
  statusRequestAfterMs?: number;
}

export interface FaultRunReport {
  mode: "chain" | "peer";
  seed: number;
  pvps: number;
  settled: number;
  refunded: number;
  rejected: number;
  /** How many of the exchanges were DvPs, and how many of those settled. */
  dvps: number;
  dvpsSettled: number;
  unfinished: number;
  crashes: number;
  outages: number;
  rounds: number;
  network: InProcessNetwork["stats"] | undefined;
  /** Status requests (pacs.028) the responder received, and how many it answered with a pacs.002. */
  statusRequests: number;
  statusAnswers: number;
  violations: string[];
}

/**
 * Margins sized for the faults below: an outage lasts at most 8 s and a crashed worker's lease expires
 * after 3 s, both well inside the time to act, so a revealed secret is always acted on in time.
 */
export const faultPolicy: TimelockPolicy = { clockDriftMs: 4_000, timeToActMs: 40_000, lockWindowMs: 60_000 };

/**
 * A seeded, repeatable fault run: PvPs under process crashes at every transition and ledger command,
 * lost, duplicated, delayed and reordered messages, ledgers and the peer going down, and expiries close
 * enough that claims race them. At the end every PvP must be final with both legs settled or both
 * refunded on the ledgers themselves, and no money created or lost.
 */
export async function runFaultScenario(options: FaultRunOptions): Promise<FaultRunReport> {
  const random = seededRandom(options.seed);
  const clock = new VirtualClock(Date.parse("2026-11-23T09:00:00Z"));
  const crashRate = options.crashRate ?? 0.02;
  const outageRate = options.outageRate ?? 0.05;
  const dt = new SimulatedLedger("dt", () => clock.ms, { allowsEarlyRefund: false });
  const foreign = new SimulatedLedger(options.mode === "chain" ? "evm" : "local", () => clock.ms, { allowsEarlyRefund: options.mode === "peer" });
  dt.skewMs = Math.floor(random() * 2000) - 1000;
  foreign.skewMs = Math.floor(random() * 2000) - 1000;
  for (let index = 0; index < 8; index++) {
    dt.fund(`DA-PAYER-${index}`, 10_000_000n);
    // One foreign payer is short of funds: its PvPs are refused and unwound.
    foreign.fund(`FX-PAYER-${index}`, index === 7 ? 1_000n : 10_000_000n);
  }
  const dvpShare = options.mode === "chain" ? (options.dvpShare ?? 0) : 0;
  const securities = new SimulatedSecuritiesLedger("securities", () => clock.ms, { isin: FAULT_ISIN, decimals: 0 });
  securities.skewMs = Math.floor(random() * 2000) - 1000;
  const holding = (role: "seller" | "buyer", index: number) => `0x${(role === "seller" ? 0xa0 + index : 0xb0 + index).toString(16).padStart(40, "0")}`;
  for (let index = 0; index < 8; index++) {
    securities.fund(holding("seller", index), 1_000_000n);
    securities.eligible.add(holding("seller", index));
    securities.eligible.add(holding("buyer", index));
  }
  // The brokers' rules are tested elsewhere (test/dvp); here every holding is its broker's.
  const dvpAuthority = { dtLedger: { servicer: async () => "BANK" }, ledgerAccountOwner: async (_ledger: string, account: string) => (account.startsWith("0x00000000000000000000000000000000000000a") ? "SELLKZKA" : "BUYRKZKA") };
  const deskOf = (engine: PvpEngine) => new DvpDesk({ engine, securities: [securities], authority: dvpAuthority });
  const dvpIds = new Set<string>();
  const totals = () => [...dt.balances.values(), ...foreign.balances.values(), ...securities.balances.values()].reduce((sum, value) => sum + value, 0n);
  const lockedTotal = () =>
    [...dt.locks.values(), ...foreign.locks.values(), ...securities.locks.values()].filter((lock) => lock.status === "locked").reduce((sum, lock) => sum + lock.amount, 0n);
  const moneyBefore = totals();
  let crashes = 0;
  let outages = 0;
  const hooks: FaultHooks = {
    at(point: CrashPoint) {
      if (random() < crashRate) {
        crashes++;
        throw new InjectedCrash(point);
      }
    },
  };
  const network = options.mode === "peer" ? new InProcessNetwork({ seed: options.seed + 1, clock: () => clock.ms, ...(options.network ? { faults: options.network } : {}) }) : undefined;
  let sequence = 0;
  const hex = (length: number) => Array.from({ length }, () => Math.floor(random() * 16).toString(16)).join("");
  const ids = {
    pvpId: (kind?: string) => `${kind ?? "pvp"}${(sequence++).toString(16).padStart(8, "0")}${hex(16)}`,
    uetr: () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`,
  };
  const watch = process.env["PVP_FAULT_WATCH"];
  const logger = {
    info: (fields: Record<string, unknown>) => void (fields["pvpId"] === watch && console.log(new Date(clock.ms).toISOString(), JSON.stringify(fields))),
    warn: (fields: Record<string, unknown>) => void (fields["pvpId"] === watch && console.log(new Date(clock.ms).toISOString(), JSON.stringify(fields))),
    error: (fields: Record<string, unknown>) => void (fields["pvpId"] === watch && console.log(new Date(clock.ms).toISOString(), JSON.stringify(fields))),
  };
  const common = { logger, db: options.db, policy: faultPolicy, clock, faults: hooks, ids, concurrency: 1, leaseMs: 3_000, pollIntervalMs: 1_000, pollMaxMs: 10_000, retryBaseMs: 500, retryMaxMs: 4_000 };
  let generation = 0;
  const statusRequestAfterMs = options.statusRequestAfterMs ?? 5_000;
  const peerLeg = (net: InProcessNetwork) =>
    peerGatewayLeg({
      agent: FOREIGN_CB,
      ourAgent: NBK,
      transport: net.transportFor(NBK),
      clock,
      onSent: recordSentMessages(options.db, FOREIGN_CB, clock),
      ...(statusRequestAfterMs > 0 ? { statusRequests: statusRequestWatch(options.db, { afterMs: statusRequestAfterMs, ourAgent: NBK, peer: FOREIGN_CB, clock }) } : {}),
    });
  const makeInitiator = () =>
    new PvpEngine({
      ...common,
      worker: `nbk-${generation++}`,
      ourAgent: NBK,
      ...(network ? { transport: network.transportFor(NBK) } : {}),
      legs: legDirectory(network ? [dt, peerLeg(network)] : [dt, foreign, securities]),
      notices: dvpNotices,
    });
  const makeResponder = () =>
    new PvpEngine({ ...common, worker: `fcb-${generation++}`, ourAgent: FOREIGN_CB, ...(network ? { transport: network.transportFor(FOREIGN_CB) } : {}), legs: legDirectory([foreign]) });
  // Two initiator processes share the database, as several gateway processes would.
  const initiators = [makeInitiator(), makeInitiator()];
  const responders = network ? [makeResponder()] : [];
  if (network) {
    // The payer is our liquidity set aside for NBK (one of several, by amount, to spread the locks); NBK is paid on its nostro.
    const termsFor = (index: string) => ({ liquidityAccounts: [`FX-PAYER-${index}`], settlementAccount: "FX-NOSTRO-NBK", maxAmount: 10n ** 15n });
    network.attach(NBK, (xml, from) => initiators[0]!.receive(xml, from, undefined));
    network.attach(FOREIGN_CB, async (xml, from) => {
      const index = /<IntrBkSttlmAmt[^>]*>\d*?(\d)\./.exec(xml)?.[1] ?? "0";
      return responders[0]!.receive(xml, from, { ledger: "local", termsOf: (bic) => (bic === NBK ? termsFor(index) : undefined) });
    });
  }

  const created: string[] = [];
  const batch = options.batch ?? 10;
  let rounds = 0;
  const outagesUntil = new Map<string, number>();
  const upAgainAt = new Map<string, number>();
  let lastAdvance = 1000;
  for (; rounds < (options.maxRounds ?? 20_000); rounds++) {
    // Banks keep up to 150 PvPs open at a time: a steady load, not an ever-growing backlog.
    const openNow = created.length < options.pvps ? Number((await options.db.query<{ open: bigint }>(`SELECT count(*)::int8 AS open FROM pvp WHERE active AND role = 'initiator'`)).rows[0]!.open) : 0;
    if (created.length < options.pvps && openNow < 150) {
      for (let index = 0; index < batch && created.length < options.pvps; index++) {
        const payer = created.length % 8;
        // The policy judges the foreign expiry by the foreign ledger's own (skewed) clock, so a bank's
        // expiries start from the later of its clock and that one.
        const now = Math.max(clock.ms, clock.ms + (network ? 0 : foreign.skewMs));
        const foreignExpiry = now + faultPolicy.lockWindowMs + Math.floor(random() * 60_000);
        const gap = 2 * faultPolicy.clockDriftMs + faultPolicy.timeToActMs;
        if (dvpShare > 0 && random() < dvpShare) {
          // A DvP: broker "payer" buys 1..20 bonds from seller holding `payer`; holding 6 now and then loses
          // eligibility right after creation (the agent acts), so its securities lock is refused and the cash unwound.
          securities.eligible.add(holding("seller", 6));
          const dvpNow = Math.max(clock.ms, clock.ms + securities.skewMs);
          const securitiesExpiry = dvpNow + faultPolicy.lockWindowMs + Math.floor(random() * 60_000);
          let dvp;
          try {
            dvp = await deskOf(initiators[0]!).create(FAULT_OPERATOR, {
              isin: FAULT_ISIN,
              quantity: String(1 + Math.floor(random() * 20)),
              amount: `${1000 + Math.floor(random() * 9000)}.00`,
              seller: { bic: "SELLKZKA", holding: holding("seller", payer), cashAccount: "DA-NOSTRO-FCB" },
              buyer: { bic: "BUYRKZKA", holding: holding("buyer", payer), cashAccount: `DA-PAYER-${payer}` },
              securitiesExpiresAt: new Date(securitiesExpiry),
              cashExpiresAt: new Date(securitiesExpiry + gap + Math.floor(random() * 30_000)),
            });
          } catch (error) {
            // The pre-check needs the securities ledger: while it is down, no DvP is instructed.
            if ((error as { code?: string }).code === "UNAVAILABLE") continue;
            throw error;
          }
          if (payer === 6 && random() < 0.5) securities.eligible.delete(holding("seller", 6));
          created.push(dvp.id);
          dvpIds.add(dvp.id);
          if (random() < 0.03) await initiators[0]!.cancel(dvp.id, "dvp");
          continue;
        }
        const pvp = await initiators[0]!.create({
          createdBy: "bank",
          counterpartyAgent: FOREIGN_CB,
          dtLeg: { ledger: "dt", payer: `DA-PAYER-${payer}`, beneficiary: "DA-NOSTRO-FCB", amount: BigInt(1000 + Math.floor(random() * 9000)), currency: "KZT", expiresAt: new Date(foreignExpiry + gap + Math.floor(random() * 30_000)) },
          foreignLeg: network
            ? { ledger: `peer:${FOREIGN_CB}`, payer: FOREIGN_CB, beneficiary: NBK, amount: BigInt(100 * (10 + Math.floor(random() * 50)) + payer), currency: "AED", expiresAt: new Date(foreignExpiry) }
            : { ledger: "evm", payer: `FX-PAYER-${payer}`, beneficiary: "FX-NOSTRO-NBK", amount: BigInt(100 + Math.floor(random() * 900)), currency: "AED", expiresAt: new Date(foreignExpiry) },
        });
        created.push(pvp.id);
        // Now and then a bank cancels right away.
        if (random() < 0.03) await initiators[0]!.cancel(pvp.id);
      }
    }
    // Outages: a ledger or the peer gateway goes down for up to 8 s.
    for (const [name, until] of outagesUntil) {
      if (clock.ms >= until) {
        outagesUntil.delete(name);
        if (name === "dt") dt.down = false;
        else if (name === "foreign") foreign.down = false;
        else if (name === "securities") securities.down = false;
        else network?.down.delete(name);
      }
    }
    // Outages come at `outageRate` per simulated second, last up to 8 s, and a target stays up at least
    // 30 s between two: "down for a while", never longer than the time to act.
    if (random() < outageRate * (lastAdvance / 1000)) {
      const targets = network ? ["dt", "foreign", FOREIGN_CB, NBK] : dvpShare > 0 ? ["dt", "foreign", "securities"] : ["dt", "foreign"];
      const name = targets[Math.floor(random() * targets.length)]!;
      if (!outagesUntil.has(name) && clock.ms >= (upAgainAt.get(name) ?? 0)) {
        outages++;
        const until = clock.ms + 1000 + Math.floor(random() * 7000);
        outagesUntil.set(name, until);
        upAgainAt.set(name, until + 30_000);
        if (name === "dt") dt.down = true;
        else if (name === "foreign") foreign.down = true;
        else if (name === "securities") securities.down = true;
        else network?.down.add(name);
      }
    }
    let worked = 0;
    const engines: Array<[PvpEngine[], number, () => PvpEngine]> = [
      ...initiators.map((_, index) => [initiators, index, makeInitiator] as [PvpEngine[], number, () => PvpEngine]),
      ...responders.map((_, index) => [responders, index, makeResponder] as [PvpEngine[], number, () => PvpEngine]),
    ];
    for (const [list, index, make] of engines) {
      try {
        worked += await list[index]!.runOnce(8);
      } catch (error) {
        if (!(error instanceof InjectedCrash)) throw error;
        // The process died: a new one starts; the dead one's leases run out on their own.
        list[index] = make();
      }
    }
    if (network) worked += await network.pump();
    // Time moves fast while nothing is due and slowly while the workers have a backlog, so the run tests
    // the protocol's margins rather than how many PvPs one simulated second can hold.
    lastAdvance = worked === 0 ? 500 + Math.floor(random() * 2500) : 20 + Math.floor(random() * 60);
    clock.advance(lastAdvance);
    if (created.length >= options.pvps && rounds % 10 === 0) {
      const open = await options.db.query<{ open: bigint }>(`SELECT count(*)::int8 AS open FROM pvp WHERE state NOT IN ('SETTLED', 'REFUNDED', 'REJECTED')`);
      if (open.rows[0]!.open === 0n && (network?.inFlight ?? 0) === 0 && (await pendingSends(options.db)) === 0) break;
    }
  }

  // The verdict comes from the ledgers, not from the engine's own records.
  const violations: string[] = [];
  const statusRows = await options.db.query<{ requests: bigint; answers: bigint }>(
    `SELECT (SELECT count(*) FROM pvp_message WHERE message_type = 'pacs.028.001.03' AND direction = 'in')::int8 AS requests,
            (SELECT count(*) FROM pvp_outbox WHERE idempotency_key LIKE '%:status-answer:%' AND status = 'done')::int8 AS answers`,
  );
  const report: FaultRunReport = {
    mode: options.mode,
    seed: options.seed,
    pvps: created.length,
    settled: 0,
    refunded: 0,
    rejected: 0,
    dvps: dvpIds.size,
    dvpsSettled: 0,
    unfinished: 0,
    crashes,
    outages,
    rounds,
    network: network?.stats,
    statusRequests: Number(statusRows.rows[0]!.requests),
    statusAnswers: Number(statusRows.rows[0]!.answers),
    violations,
  };
  const responderRows = network ? await pvpStore.list(options.db, FOREIGN_CB, { limit: 500 }) : [];
  const responderByRef = new Map<string, string>();
  if (network) {
    const all = await options.db.query<{ id: string; pvp_ref: string }>(`SELECT id, pvp_ref FROM pvp WHERE our_agent = $1`, [FOREIGN_CB]);
    for (const row of all.rows) responderByRef.set(row.pvp_ref, row.id);
  }
  void responderRows;
  for (const id of created) {
    const pvp = (await pvpStore.get(options.db, id))!;
    if (pvp.state === "SETTLED" && dvpIds.has(id)) report.dvpsSettled++;
    if (!isTerminal(pvp.state)) {
      report.unfinished++;
      violations.push(`${id}: not final (${pvp.state})`);
      continue;
    }
    if (pvp.state === "SETTLED") report.settled++;
    else if (pvp.state === "REFUNDED") report.refunded++;
    else report.rejected++;
    const dtLock = dt.locks.get(`${id}:dt`);
    const foreignKey = network ? `${responderByRef.get(id) ?? "none"}:foreign` : `${id}:foreign`;
    const foreignLock = (dvpIds.has(id) ? securities : foreign).locks.get(foreignKey);
    const dtClaimed = dtLock?.status === "claimed";
    const foreignClaimed = foreignLock?.status === "claimed";
    if (dtLock?.status === "locked" || foreignLock?.status === "locked") violations.push(`${id}: a leg is still locked (dt ${dtLock?.status}, foreign ${foreignLock?.status})`);
    if (dtClaimed !== foreignClaimed) violations.push(`${id}: one leg settled, the other not (dt ${dtLock?.status ?? "absent"}, foreign ${foreignLock?.status ?? "absent"}) in ${pvp.state}`);
    if (pvp.state === "SETTLED" && !(dtClaimed && foreignClaimed)) violations.push(`${id}: SETTLED but the ledgers disagree`);
    if (pvp.state !== "SETTLED" && (dtClaimed || foreignClaimed)) violations.push(`${id}: ${pvp.state} but a leg was claimed`);
  }
  if (network) {
    const open = await options.db.query<{ id: string; state: string }>(`SELECT id, state FROM pvp WHERE our_agent = $1 AND state NOT IN ('SETTLED', 'REFUNDED', 'REJECTED')`, [FOREIGN_CB]);
    for (const row of open.rows) violations.push(`responder ${row.id}: not final (${row.state})`);
  }
  if (totals() + lockedTotal() !== moneyBefore) violations.push(`money not conserved: ${moneyBefore} before, ${totals() + lockedTotal()} after`);
  return report;
}

const FAULT_ISIN = "KZKD00001020";
const FAULT_OPERATOR = { id: "operator", role: "operator", name: "operator", credentialId: "operator-key" } as const;
async function pendingSends(db: Database): Promise<number> {
  const result = await db.query<{ pending: bigint }>(`SELECT count(*)::int8 AS pending FROM pvp_outbox WHERE status = 'pending' AND command = 'send'`);
  return Number(result.rows[0]!.pending);
}
