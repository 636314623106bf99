import type { Hex } from "viem";
import { decodeCursor, pageAtColumn, pageOf, type Page } from "../core/paging.ts";
import type { Database, Queryable } from "../persistence/database.ts";
import type { LegSide, PeerMessage } from "./leg-port.ts";
import { agentCounterparty, counterpartyName, counterpartyOfName, type MessageCounterparty } from "./message-counterparty.ts";
import { legFromJson, legToJson, type ExchangeKind, type PeerLegStatus, type PvpRecord } from "./pvp.ts";
import type { InstructionReference } from "../iso20022/pvp/envelope.ts";
import { TERMINAL_STATES, type PvpState } from "./state-machine.ts";

/** What one outbox row does: a ledger command on one leg, or a message to a correspondent. */
export type OutboxCommandSpec =
  | { command: "lock"; side: LegSide }
  | { command: "claim"; side: LegSide }
  | { command: "refund"; side: LegSide; early: boolean }
  | { command: "send"; message: PeerDelivery };

/** A message for a correspondent, as the outbox hands it to the transport. */
export interface PeerDelivery extends PeerMessage {
  /** The correspondent's BIC. */
  to: string;
}

/** A row of the outbox: a ledger command or a message to a correspondent, executed idempotently. */
export type OutboxCommand = OutboxCommandSpec & {
  id: bigint;
  pvpId: string;
  idempotencyKey: string;
  attempts: number;
  nextAttemptAt: Date;
  /** When the engine issued the command; retries keep it. */
  createdAt: Date;
};

/** What a step may change on a stored PvP; state and version move only through `moveState`. */
export interface PvpPatch {
  /** The preimage as stored (sealed). */
  preimage?: string;
  dtReference?: string;
  foreignReference?: string;
  peerStatus?: PeerLegStatus;
  peerReason?: string;
  peerCancellation?: string;
  cancelRequested?: true;
  dtLockRefused?: true;
  foreignLockRefused?: true;
  dtLockIssued?: true;
  foreignLockIssued?: true;
  reasonCode?: string;
  /** A DvP's trade terms, rewritten when the counterparty affirms (JSON). */
  exchangeTerms?: string;
  awaitingAffirmation?: false;
  /** Makes a final PvP looked at again (to send an answer queued after it finished). */
  active?: true;
}

const PATCH_COLUMNS: { readonly [Field in keyof PvpPatch]-?: string } = {
  preimage: "preimage",
  dtReference: "dt_reference",
  foreignReference: "foreign_reference",
  peerStatus: "peer_status",
  peerReason: "peer_reason",
  peerCancellation: "peer_cancellation",
  cancelRequested: "cancel_requested",
  dtLockRefused: "dt_lock_refused",
  foreignLockRefused: "foreign_lock_refused",
  dtLockIssued: "dt_lock_issued",
  foreignLockIssued: "foreign_lock_issued",
  reasonCode: "reason_code",
  exchangeTerms: "exchange_terms",
  awaitingAffirmation: "awaiting_affirmation",
  active: "active",
};

export interface TimelineEntry {
  at: Date;
  kind: "transition" | "command" | "message_in" | "message_out" | "notice";
  fromState: string | null;
  toState: string | null;
  event: string | null;
  detail: Record<string, unknown>;
}

export interface MessageRecord {
  businessMessageId: string;
  direction: "in" | "out";
  messageType: string;
  counterparty: MessageCounterparty;
  at: Date;
  summary: Record<string, unknown>;
  xml: string;
  /** The message holds the preimage (an ACSC): shown only once the PvP is settled. */
  carriesPreimage: boolean;
}

export interface PvpListFilter {
  /** Which kind of exchange (default: PvPs only). */
  kind?: ExchangeKind;
  state?: PvpState;
  role?: "initiator" | "responder";
  counterpartyAgent?: string;
  createdBy?: string;
  limit?: number;
  /** The `next` cursor of the previous page: PvPs older than its last one, by (creation time, id). */
  before?: string;
  /** Only exchanges naming this institution as a party (a DvP's seller or buyer broker). */
  partyBic?: string;
  /** Only PvPs not yet final with a leg whose expiry is before this time (operators acting on stuck PvPs). */
  pastExpiryAt?: Date;
}

const PVP_COLUMNS = `id, pvp_ref, role, state, version, uetr::text AS uetr, hash_lock, preimage, dt_leg, foreign_leg, dt_reference,
  foreign_reference, our_agent, counterparty_agent, created_by, peer_status, peer_reason, peer_cancellation, cancel_requested, dt_lock_refused,
  foreign_lock_refused, dt_lock_issued, foreign_lock_issued, reason_code, instruction, created_at, updated_at, next_run_at, last_error, last_error_at,
  bank_agent, kind, exchange_terms, awaiting_affirmation`;

type Row = Record<string, unknown>;

function json(value: unknown): unknown {
  return typeof value === "string" ? JSON.parse(value) : value;
}

function optional<T>(value: unknown): T | undefined {
  return value === null || value === undefined ? undefined : (value as T);
}

function pvpFromRow(row: Row): PvpRecord {
  return {
    id: String(row["id"]),
    kind: (row["kind"] ?? "pvp") as ExchangeKind,
    exchangeTerms: row["exchange_terms"] === null || row["exchange_terms"] === undefined ? undefined : (json(row["exchange_terms"]) as Record<string, unknown>),
    awaitingAffirmation: Boolean(row["awaiting_affirmation"]),
    pvpRef: String(row["pvp_ref"]),
    role: row["role"] as PvpRecord["role"],
    state: row["state"] as PvpState,
    version: Number(row["version"]),
    uetr: String(row["uetr"]),
    hashLock: String(row["hash_lock"]) as Hex,
    // Opened by the engine, which holds the key; everything else never sees the secret.
    preimage: undefined,
    sealedPreimage: optional<string>(row["preimage"]),
    dtLeg: row["dt_leg"] === null ? undefined : legFromJson(json(row["dt_leg"])),
    foreignLeg: legFromJson(json(row["foreign_leg"])),
    dtReference: optional(row["dt_reference"]),
    foreignReference: optional(row["foreign_reference"]),
    ourAgent: String(row["our_agent"]),
    counterpartyAgent: String(row["counterparty_agent"]),
    createdBy: String(row["created_by"]),
    bankAgent: optional(row["bank_agent"]),
    peerStatus: optional<PeerLegStatus>(row["peer_status"]),
    peerReason: optional(row["peer_reason"]),
    peerCancellation: optional(row["peer_cancellation"]),
    cancelRequested: Boolean(row["cancel_requested"]),
    dtLockRefused: Boolean(row["dt_lock_refused"]),
    foreignLockRefused: Boolean(row["foreign_lock_refused"]),
    dtLockIssued: Boolean(row["dt_lock_issued"]),
    foreignLockIssued: Boolean(row["foreign_lock_issued"]),
    reasonCode: optional(row["reason_code"]),
    instruction: row["instruction"] === null ? undefined : (json(row["instruction"]) as InstructionReference),
    createdAt: row["created_at"] as Date,
    updatedAt: row["updated_at"] as Date,
    nextRunAt: row["next_run_at"] as Date,
    lastError: row["last_error"] === null || row["last_error"] === undefined ? undefined : { at: row["last_error_at"] as Date, message: String(row["last_error"]) },
  };
}

function commandFromRow(row: Row): OutboxCommand {
  const common = {
    id: BigInt(row["id"] as bigint),
    pvpId: String(row["pvp_id"]),
    idempotencyKey: String(row["idempotency_key"]),
    attempts: Number(row["attempts"]),
    nextAttemptAt: row["next_attempt_at"] as Date,
    createdAt: row["created_at"] as Date,
  };
  const payload = json(row["payload"]) as Record<string, unknown>;
  const command = String(row["command"]);
  if (command === "send") {
    const message = { to: String(payload["to"]), xml: String(payload["xml"]), businessMessageId: String(payload["messageId"]), messageType: String(payload["messageType"]) };
    return { ...common, command, message };
  }
  const side = row["side"] as LegSide;
  if (command === "refund") return { ...common, command, side, early: payload["early"] === true };
  if (command === "lock" || command === "claim") return { ...common, command, side };
  throw new Error(`outbox row ${common.id} has an unknown command ${command}`);
}

/** The stored form of a command: its side column and its payload (the names kept since the first release). */
function commandColumns(spec: OutboxCommandSpec): { side: LegSide | null; payload: Record<string, unknown> } {
  switch (spec.command) {
    case "lock":
    case "claim":
      return { side: spec.side, payload: {} };
    case "refund":
      return { side: spec.side, payload: { early: spec.early } };
    case "send":
      return { side: null, payload: { xml: spec.message.xml, to: spec.message.to, messageId: spec.message.businessMessageId, messageType: spec.message.messageType } };
  }
}

const terminalList = TERMINAL_STATES.map((state) => `'${state}'`).join(", ");

/** SQL of the PvP engine. Every method takes the transaction it runs in, or the database. */
export const pvpStore = {
  async insert(tx: Queryable, pvp: PvpRecord): Promise<void> {
    await tx.query(
      `INSERT INTO pvp (id, pvp_ref, role, state, version, uetr, hash_lock, preimage, dt_leg, foreign_leg, our_agent, counterparty_agent,
         created_by, instruction, created_at, updated_at, next_run_at, bank_agent, reason_code, foreign_lock_refused, kind, exchange_terms, awaiting_affirmation)
       VALUES ($1, $2, $3, $4, 0, $5::uuid, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12, $13::jsonb, $14, $14, $14, $15, $16, $17, $18, $19::jsonb, $20)`,
      [
        pvp.id,
        pvp.pvpRef,
        pvp.role,
        pvp.state,
        pvp.uetr,
        pvp.hashLock,
        pvp.sealedPreimage ?? null,
        pvp.dtLeg ? JSON.stringify(legToJson(pvp.dtLeg)) : null,
        JSON.stringify(legToJson(pvp.foreignLeg)),
        pvp.ourAgent,
        pvp.counterpartyAgent,
        pvp.createdBy,
        pvp.instruction ? JSON.stringify(pvp.instruction) : null,
        pvp.createdAt,
        pvp.bankAgent ?? null,
        pvp.reasonCode ?? null,
        pvp.foreignLockRefused,
        pvp.kind,
        pvp.exchangeTerms ? JSON.stringify(pvp.exchangeTerms) : null,
        pvp.awaitingAffirmation,
      ],
    );
  },

  async get(db: Queryable, id: string, forUpdate = false): Promise<PvpRecord | undefined> {
    const result = await db.query(`SELECT ${PVP_COLUMNS} FROM pvp WHERE id = $1${forUpdate ? " FOR UPDATE" : ""}`, [id]);
    return result.rows[0] ? pvpFromRow(result.rows[0]) : undefined;
  },

  /** A PvP by UETR; with `counterpartyAgent`, only among that correspondent's PvPs (UETRs are scoped per sender). */
  async byUetr(db: Queryable, ourAgent: string, role: "initiator" | "responder", uetr: string, forUpdate = false, counterpartyAgent?: string): Promise<PvpRecord | undefined> {
    const result = await db.query(
      `SELECT ${PVP_COLUMNS} FROM pvp WHERE our_agent = $1 AND role = $2 AND uetr = $3::uuid${counterpartyAgent === undefined ? "" : " AND counterparty_agent = $4"}${forUpdate ? " FOR UPDATE" : ""}`,
      counterpartyAgent === undefined ? [ourAgent, role, uetr] : [ourAgent, role, uetr, counterpartyAgent],
    );
    return result.rows[0] ? pvpFromRow(result.rows[0]) : undefined;
  },

  async list(db: Queryable, ourAgent: string, filter: PvpListFilter): Promise<PvpRecord[]> {
    return (await this.page(db, ourAgent, filter)).items;
  },

  /** One page newest first, keyset by (created_at, id): PvPs created in the same microsecond are neither skipped nor repeated. */
  async page(db: Queryable, ourAgent: string, filter: PvpListFilter): Promise<Page<PvpRecord>> {
    const where = ["our_agent = $1", "kind = $2"];
    const params: unknown[] = [ourAgent, filter.kind ?? "pvp"];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replace("?", `$${params.length}`));
    };
    if (filter.state) add("state = ?", filter.state);
    if (filter.role) add("role = ?", filter.role);
    if (filter.counterpartyAgent) add("counterparty_agent = ?", filter.counterpartyAgent);
    if (filter.createdBy) add("created_by = ?", filter.createdBy);
    if (filter.partyBic) {
      params.push(filter.partyBic);
      where.push(`(exchange_terms->'seller'->>'bic' = $${params.length} OR exchange_terms->'buyer'->>'bic' = $${params.length})`);
    }
    if (filter.before !== undefined) {
      const key = decodeCursor(filter.before);
      params.push(key.at, key.id);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    if (filter.pastExpiryAt) {
      params.push(filter.pastExpiryAt);
      const at = `$${params.length}`;
      where.push(`state NOT IN (${terminalList}) AND ((foreign_leg->>'expiresAt')::timestamptz < ${at} OR (dt_leg->>'expiresAt')::timestamptz < ${at})`);
    }
    const limit = Math.min(filter.limit ?? 50, 500);
    params.push(limit + 1);
    const result = await db.query<Row & { page_at: string }>(
      `SELECT ${PVP_COLUMNS}, ${pageAtColumn("created_at")} FROM pvp WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return pageOf(result.rows, limit, (row) => String(row["id"]), pvpFromRow);
  },

  /**
   * Leases up to `limit` due PvPs for one worker. SKIP LOCKED lets several gateway processes share the
   * table: each due PvP goes to one of them, and a lease that outlives a crashed worker simply expires.
   */
  async leaseDue(db: Database, ourAgent: string, worker: string, now: Date, leaseMs: number, limit: number): Promise<string[]> {
    // One statement, so atomic without an explicit transaction.
    {
      const result = await db.query<{ id: string }>(
        `UPDATE pvp SET lease_owner = $2, lease_until = $3
         WHERE id IN (
           SELECT id FROM pvp
           WHERE our_agent = $1 AND active AND next_run_at <= $4 AND (lease_until IS NULL OR lease_until < $4)
           ORDER BY next_run_at, id LIMIT $5 FOR UPDATE SKIP LOCKED)
         RETURNING id`,
        [ourAgent, worker, new Date(now.getTime() + leaseMs), now, limit],
      );
      return result.rows.map((row) => row.id);
    }
  },

  /** Leases one PvP now, whether due or not; false when another worker holds it. */
  async leaseOne(db: Database, id: string, worker: string, now: Date, leaseMs: number): Promise<boolean> {
    const result = await db.query(
      `UPDATE pvp SET lease_owner = $2, lease_until = $3 WHERE id = $1 AND (lease_until IS NULL OR lease_until < $4 OR lease_owner = $2)`,
      [id, worker, new Date(now.getTime() + leaseMs), now],
    );
    return result.rowCount === 1;
  },

  async releaseLease(db: Queryable, id: string, worker: string, nextRunAt: Date): Promise<void> {
    await db.query(
      `UPDATE pvp SET lease_owner = NULL, lease_until = NULL, next_run_at = $3,
         active = state NOT IN (${terminalList}) OR EXISTS (SELECT 1 FROM pvp_outbox o WHERE o.pvp_id = pvp.id AND o.status = 'pending')
       WHERE id = $1 AND lease_owner = $2`,
      [id, worker, nextRunAt],
    );
  },

  /**
   * Moves a PvP from the state it was read in; false when someone else moved it first. With `entry`, the
   * timeline entry is written by the same statement, and only if the PvP moved (one round trip, not two).
   */
  async moveState(tx: Queryable, pvp: PvpRecord, to: PvpState, now: Date, changes: { reasonCode?: string } = {}, entry?: TimelineEntry): Promise<boolean> {
    // A settled PvP has no problem left: an error from a retry on the way there would only mislead.
    const move = `UPDATE pvp SET state = $3, version = version + 1, updated_at = $4, next_run_at = $4, reason_code = COALESCE($5, reason_code),
              last_error = CASE WHEN $3::text = 'SETTLED' THEN NULL ELSE last_error END,
              last_error_at = CASE WHEN $3::text = 'SETTLED' THEN NULL ELSE last_error_at END
       WHERE id = $1 AND version = $2`;
    const parameters = [pvp.id, pvp.version, to, now, changes.reasonCode ?? null];
    const result = entry
      ? await tx.query(
          `WITH moved AS (${move} RETURNING id)
           INSERT INTO pvp_timeline (pvp_id, at, kind, from_state, to_state, event, detail) SELECT id, $6, $7, $8, $9, $10, $11::jsonb FROM moved`,
          [...parameters, entry.at, entry.kind, entry.fromState, entry.toState, entry.event, JSON.stringify(entry.detail)],
        )
      : await tx.query(move, parameters);
    return result.rowCount === 1;
  },

  /** Writes a patch; each field goes to its own column, named in one table above. */
  async update(tx: Queryable, id: string, patch: PvpPatch, now: Date): Promise<void> {
    const fields = (Object.keys(patch) as Array<keyof PvpPatch>).filter((field) => patch[field] !== undefined);
    const assignments = fields.map((field, index) => `${PATCH_COLUMNS[field]} = $${index + 3}`);
    await tx.query(`UPDATE pvp SET ${[...assignments, "updated_at = $2", "next_run_at = LEAST(next_run_at, $2)"].join(", ")} WHERE id = $1`, [
      id,
      now,
      ...fields.map((field) => patch[field]),
    ]);
  },

  async addTimeline(tx: Queryable, pvpId: string, entry: TimelineEntry): Promise<void> {
    await tx.query(
      `INSERT INTO pvp_timeline (pvp_id, at, kind, from_state, to_state, event, detail) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`,
      [pvpId, entry.at, entry.kind, entry.fromState, entry.toState, entry.event, JSON.stringify(entry.detail)],
    );
  },

  async timeline(db: Queryable, pvpId: string): Promise<TimelineEntry[]> {
    const result = await db.query(`SELECT at, kind, from_state, to_state, event, detail FROM pvp_timeline WHERE pvp_id = $1 ORDER BY seq`, [pvpId]);
    return result.rows.map((row) => ({
      at: row["at"] as Date,
      kind: row["kind"] as TimelineEntry["kind"],
      fromState: optional<string>(row["from_state"]) ?? null,
      toState: optional<string>(row["to_state"]) ?? null,
      event: optional<string>(row["event"]) ?? null,
      detail: json(row["detail"]) as Record<string, unknown>,
    }));
  },

  /** Records a message; false when this BizMsgIdr was already recorded in that direction (a replay). */
  async recordMessage(tx: Queryable, pvpId: string | null, message: MessageRecord & { uetr?: string }): Promise<boolean> {
    const result = await tx.query(
      `INSERT INTO pvp_message (business_message_id, direction, pvp_id, message_type, uetr, counterparty, summary, xml, at, carries_preimage)
       VALUES ($1, $2, $3, $4, $5::uuid, $6, $7::jsonb, $8, $9, $10) ON CONFLICT DO NOTHING`,
      [
        message.businessMessageId,
        message.direction,
        pvpId,
        message.messageType,
        message.uetr ?? null,
        counterpartyName(message.counterparty),
        JSON.stringify(message.summary),
        message.xml,
        message.at,
        message.carriesPreimage,
      ],
    );
    return result.rowCount === 1;
  },

  /** Files an inbound message recorded before its PvP existed (the pacs.009 that opened it) under that PvP. */
  async attachInbound(tx: Queryable, pvpId: string, sender: string, businessMessageId: string): Promise<void> {
    await tx.query(`UPDATE pvp_message SET pvp_id = $1 WHERE direction = 'in' AND counterparty = $2 AND business_message_id = $3`, [
      pvpId,
      counterpartyName(agentCounterparty(sender)),
      businessMessageId,
    ]);
  },

  /** The XML first recorded under a correspondent's (`sender`, a BIC) inbound BizMsgIdr. */
  async inboundXml(tx: Queryable, sender: string, businessMessageId: string): Promise<string | undefined> {
    const result = await tx.query<{ xml: string }>(
      "SELECT xml FROM pvp_message WHERE direction = 'in' AND counterparty = $1 AND business_message_id = $2",
      [counterpartyName(agentCounterparty(sender)), businessMessageId],
    );
    return result.rows[0]?.xml;
  },

  /** Keeps a message that reused a BizMsgIdr with other bytes (refused, never acted on). */
  async recordConflict(db: Queryable, conflict: { counterparty: string; businessMessageId: string; xml: string; at: Date }): Promise<void> {
    await db.query("INSERT INTO pvp_message_conflict (counterparty, business_message_id, xml, at) VALUES ($1, $2, $3, $4)", [
      conflict.counterparty,
      conflict.businessMessageId,
      conflict.xml,
      conflict.at,
    ]);
  },

  async messages(db: Queryable, pvpId: string): Promise<MessageRecord[]> {
    const result = await db.query(
      `SELECT business_message_id, direction, message_type, counterparty, at, summary, xml, carries_preimage FROM pvp_message WHERE pvp_id = $1 ORDER BY at, seq`,
      [pvpId],
    );
    return result.rows.map((row) => ({
      businessMessageId: String(row["business_message_id"]),
      direction: row["direction"] as "in" | "out",
      messageType: String(row["message_type"]),
      counterparty: counterpartyOfName(String(row["counterparty"])),
      at: row["at"] as Date,
      summary: json(row["summary"]) as Record<string, unknown>,
      xml: String(row["xml"]),
      carriesPreimage: Boolean(row["carries_preimage"]),
    }));
  },

  async enqueue(tx: Queryable, pvpId: string, spec: OutboxCommandSpec, idempotencyKey: string, now: Date): Promise<void> {
    const { side, payload } = commandColumns(spec);
    await tx.query(
      `INSERT INTO pvp_outbox (pvp_id, command, side, payload, idempotency_key, next_attempt_at, created_at)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, $6) ON CONFLICT (idempotency_key) DO NOTHING`,
      [pvpId, spec.command, side, JSON.stringify(payload), idempotencyKey, now],
    );
  },

  async pendingCommands(db: Queryable, pvpId: string): Promise<OutboxCommand[]> {
    const result = await db.query(
      `SELECT id, pvp_id, command, side, payload, idempotency_key, attempts, next_attempt_at, created_at FROM pvp_outbox WHERE pvp_id = $1 AND status = 'pending' ORDER BY id`,
      [pvpId],
    );
    return result.rows.map(commandFromRow);
  },

  async finishCommand(tx: Queryable, id: bigint, status: "done" | "failed" | "cancelled", now: Date, error?: string): Promise<void> {
    await tx.query(`UPDATE pvp_outbox SET status = $2, done_at = $3, last_error = $4, attempts = attempts + 1 WHERE id = $1 AND status = 'pending'`, [
      id,
      status,
      now,
      error ?? null,
    ]);
  },

  /**
   * A command done, in one statement (atomic without a transaction, one round trip instead of five): the
   * outbox row marked done, the PvP's `patch` (the ledger's reference) written, the timeline entry added.
   */
  async completeCommand(db: Queryable, command: { id: bigint; pvpId: string }, patch: PvpPatch, entry: TimelineEntry): Promise<void> {
    const fields = (Object.keys(patch) as Array<keyof PvpPatch>).filter((field) => patch[field] !== undefined);
    const assignments = fields.map((field, index) => `${PATCH_COLUMNS[field]} = $${index + 8}`);
    const patched =
      fields.length === 0
        ? ""
        : `, patched AS (UPDATE pvp SET ${[...assignments, "updated_at = $3", "next_run_at = LEAST(next_run_at, $3)"].join(", ")} WHERE id = $2 RETURNING id)`;
    await db.query(
      `WITH finished AS (UPDATE pvp_outbox SET status = 'done', done_at = $3, last_error = NULL, attempts = attempts + 1 WHERE id = $1 AND status = 'pending' RETURNING id)${patched}
       INSERT INTO pvp_timeline (pvp_id, at, kind, from_state, to_state, event, detail) VALUES ($2, $3, $4, $5, $6, $7, $${fields.length + 8}::jsonb)`,
      [command.id, command.pvpId, entry.at, entry.kind, entry.fromState, entry.toState, entry.event, ...fields.map((field) => patch[field]), JSON.stringify(entry.detail)],
    );
  },

  /** Records the last failure met on a PvP (shown by the API); the message must hold no secret. */
  async recordError(db: Queryable, id: string, at: Date, message: string): Promise<void> {
    // Whatever a ledger client put in its message, no 32-byte value (a preimage looks like one) is kept.
    const safe = message.replace(/(0x)?[0-9a-fA-F]{64}/g, "[32 bytes]").slice(0, 300);
    await db.query(`UPDATE pvp SET last_error = $2, last_error_at = $3 WHERE id = $1`, [id, safe, at]);
  },

  async retryCommand(db: Queryable, id: bigint, nextAttemptAt: Date, error: string): Promise<void> {
    await db.query(`UPDATE pvp_outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1 AND status = 'pending'`, [
      id,
      nextAttemptAt,
      error,
    ]);
  },

  /** Makes a PvP's pending refunds due now (an agreed cancellation lets them go before the expiry). */
  async hastenRefunds(tx: Queryable, pvpId: string, now: Date): Promise<void> {
    await tx.query(`UPDATE pvp_outbox SET next_attempt_at = LEAST(next_attempt_at, $2) WHERE pvp_id = $1 AND command = 'refund' AND status = 'pending'`, [pvpId, now]);
  },

  /** Whether a claim of the leg was ever written to the outbox (the only way the preimage leaves). */
  async claimWritten(db: Queryable, pvpId: string, side: LegSide): Promise<boolean> {
    const result = await db.query(`SELECT 1 FROM pvp_outbox WHERE pvp_id = $1 AND command = 'claim' AND side = $2 LIMIT 1`, [pvpId, side]);
    return result.rows.length > 0;
  },

  async cancelCommands(tx: Queryable, pvpId: string, command: OutboxCommand["command"], now: Date): Promise<void> {
    await tx.query(`UPDATE pvp_outbox SET status = 'cancelled', done_at = $3 WHERE pvp_id = $1 AND command = $2 AND status = 'pending'`, [pvpId, command, now]);
  },

  async outbox(db: Queryable, pvpId: string): Promise<Array<OutboxCommand & { status: string; lastError: string | null }>> {
    const result = await db.query(
      `SELECT id, pvp_id, command, side, payload, idempotency_key, attempts, next_attempt_at, created_at, status, last_error FROM pvp_outbox WHERE pvp_id = $1 ORDER BY id`,
      [pvpId],
    );
    return result.rows.map((row) => ({ ...commandFromRow(row), status: String(row["status"]), lastError: optional<string>(row["last_error"]) ?? null }));
  },
};
