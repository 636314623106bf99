import type { Queryable } from "../persistence/database.ts";
import { DtLedgerError, type AccountKind } from "../ledger/dt-ledger-port.ts";

/**
 * Participants of the two-tier DT platform: the NBK issues and redeems; second-tier banks and the Treasury
 * open digital accounts for their customers; the gateway operates its segregated collateral wallet and
 * places PvP holds.
 */
export type ParticipantRole = "central_bank" | "bank" | "treasury" | "gateway";

export interface Participant {
  id: string;
  name: string;
  role: ParticipantRole;
  /** Raw Ed25519 public key for signed HTTP requests; undefined for in-process-only participants. */
  publicKey: Uint8Array | undefined;
  /** When its key was revoked: it can no longer call over HTTP. */
  revokedAt?: Date | undefined;
}

export interface ParticipantRegistration {
  id: string;
  name: string;
  role: ParticipantRole;
  publicKey?: Uint8Array;
}

/** Account kinds each role may open (a bank does not open government agencies' accounts, etc.). */
const OPENABLE: Record<ParticipantRole, readonly AccountKind[]> = {
  central_bank: [],
  bank: ["individual", "legal_entity", "exchange"],
  treasury: ["government_agency"],
  gateway: ["segregated_wallet", "collateral_intake"],
};

export function mayOpen(role: ParticipantRole, kind: AccountKind): boolean {
  return OPENABLE[role].includes(kind);
}

/** Registers a participant, or updates its name and key (the role never changes); re-admits a revoked one. */
export async function registerParticipant(db: Queryable, registration: ParticipantRegistration): Promise<Participant> {
  if (!/^[A-Z0-9]{3,16}$/.test(registration.id)) {
    throw new DtLedgerError("INVALID_REQUEST", "a participant id is 3-16 characters of A-Z and 0-9 (a BIC fits)");
  }
  if (registration.publicKey && registration.publicKey.length !== 32) {
    throw new DtLedgerError("INVALID_REQUEST", "an Ed25519 public key is 32 bytes");
  }
  const result = await db.query<{ role: ParticipantRole }>(
    `INSERT INTO dt_ledger.participants (id, name, role, public_key) VALUES ($1, $2, $3, $4)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, public_key = EXCLUDED.public_key, revoked_at = NULL
     RETURNING role`,
    [registration.id, registration.name, registration.role, registration.publicKey ?? null],
  );
  if (result.rows[0]?.role !== registration.role) {
    throw new DtLedgerError("INVALID_REQUEST", `participant ${registration.id} is already registered with another role`);
  }
  return { id: registration.id, name: registration.name, role: registration.role, publicKey: registration.publicKey };
}

/** Revokes a participant: its signed requests are refused from the next one on. */
export async function revokeParticipant(db: Queryable, id: string): Promise<void> {
  const result = await db.query("UPDATE dt_ledger.participants SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1", [id]);
  if (result.rowCount === 0) throw new DtLedgerError("INVALID_REQUEST", `no participant ${id}`);
}

interface ParticipantRow {
  id: string;
  name: string;
  role: ParticipantRole;
  public_key: Uint8Array | null;
  revoked_at: Date | null;
}

const toParticipant = (row: ParticipantRow): Participant => ({
  id: row.id,
  name: row.name,
  role: row.role,
  publicKey: row.public_key ?? undefined,
  revokedAt: row.revoked_at ?? undefined,
});

export async function findParticipant(db: Queryable, id: string): Promise<Participant | undefined> {
  const result = await db.query<ParticipantRow>("SELECT id, name, role, public_key, revoked_at FROM dt_ledger.participants WHERE id = $1", [id]);
  const row = result.rows[0];
  return row && toParticipant(row);
}

export async function listParticipants(db: Queryable): Promise<Participant[]> {
  const result = await db.query<ParticipantRow>("SELECT id, name, role, public_key, revoked_at FROM dt_ledger.participants ORDER BY id");
  return result.rows.map(toParticipant);
}
