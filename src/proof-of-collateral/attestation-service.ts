import { Gauge, type Registry } from "prom-client";
import { type Page } from "../core/paging.ts";
import type { Database } from "../persistence/database.ts";
import type { Logger } from "../server/logger.ts";
import type { Address, Hex } from "viem";
import type { DtLedgerPort } from "../ledger/dt-ledger-port.ts";
import { formatKzt, KZT } from "../core/money.ts";
import {
  buildAttestation,
  formatRatio,
  signAttestation,
  VERIFICATION_STEPS,
  type Attestation,
  type AttestationDocument,
  type AttestationV1,
  type ChainReading,
} from "./attestation.ts";

/**
 * The token on its chain as an attestation reads it: the supply and the allotment in force at a block, and
 * the token's statement age limit. The stablecoin's TokenChain is one; the proof of collateral needs nothing
 * else of the stablecoin.
 */
export interface SupplyChain {
  readonly chainId: number;
  readonly token: Address;
  latestBlock(): Promise<{ number: bigint; hash: Hex; timestamp: bigint }>;
  totalSupply(blockNumber: bigint): Promise<bigint>;
  maxStatementAge(): Promise<bigint>;
  /** The token's issuance figures at the block; absent where the token has no allotments. */
  issuance?(blockNumber?: bigint): Promise<{ issued: bigint; issuanceLimit: bigint; sequence: bigint; required: boolean }>;
}

/** One chain the attestation covers, and the RPC verifiers are pointed at for it. */
export interface AttestedChain {
  chainId: number;
  chain: SupplyChain;
  publicRpcUrl?: string;
}

export interface AttestationServiceOptions {
  db: Database;
  ledger: Pick<DtLedgerPort, "collateralStatement">;
  /** Every chain the token is issued on (the first is the default; the statement is bound to it). */
  chains: readonly AttestedChain[];
  segregatedAccount: string;
  /** The gateway's Ed25519 secret key (32 bytes); signs every attestation. */
  signingKey: Uint8Array;
  /** A statement older than this raises STATEMENT_STALE (default: the strictest of the tokens' maxStatementAge). */
  maxStatementAgeSeconds?: bigint;
  /** Public base URL of the gateway, for the CLI hint. */
  publicUrl?: string;
  logger?: Logger;
  metrics?: Registry;
  now?: () => Date;
}

export interface HistoryEntry {
  id: string;
  issuedAt: string;
  /** KZT with 2 decimals. */
  collateral: string;
  /** Tokens on every chain with 2 decimals (1 token = 1 KZT). */
  supply: string;
  currency: "KZT";
  ratio: string | null;
  ledgerHeight: string;
  /** The first chain's block. */
  blockNumber: string;
  healthy: boolean;
  alerts: string[];
  chains: HistoryChainEntry[];
}

export interface HistoryChainEntry {
  chainId: number;
  token: string;
  /** KZT with 2 decimals. */
  supply: string;
  blockNumber: string;
  /** KZT with 2 decimals; null for a token without allotments. */
  issuanceLimit: string | null;
}

type ServedDocument = Omit<AttestationDocument, "attestation"> & { attestation: Attestation | AttestationV1 };

/**
 * Issues, stores and serves attestations. The latest one is kept serialized in memory, so the public
 * endpoint answers with a ready string; `renew()` runs after every mint and redeem and on a timer.
 */
export class AttestationService {
  readonly #options: AttestationServiceOptions;
  #latest: { json: string; bytes: Buffer; document: ServedDocument; id: string } | undefined;
  #renewing: Promise<AttestationDocument> | undefined;
  #again = false;
  readonly #ratio: Gauge | undefined;
  readonly #alert: Gauge | undefined;
  readonly #issued: Gauge | undefined;

  constructor(options: AttestationServiceOptions) {
    if (options.chains.length === 0) throw new Error("an attestation covers at least one chain");
    const ids = new Set<number>();
    for (const entry of options.chains) {
      if (entry.chain.chainId !== entry.chainId) throw new Error(`chain ${entry.chainId} is connected to an RPC of chain ${entry.chain.chainId}`);
      if (ids.has(entry.chainId)) throw new Error(`chain ${entry.chainId} is listed twice`);
      ids.add(entry.chainId);
    }
    this.#options = options;
    const registers = options.metrics ? [options.metrics] : [];
    if (options.metrics) {
      this.#ratio = new Gauge({ name: "tenge_gateway_collateral_ratio", help: "Collateral / stablecoin supply in the latest attestation (0 when none is issued)", registers });
      this.#alert = new Gauge({ name: "tenge_gateway_collateral_alert", help: "1 while the latest attestation raises the alert", labelNames: ["code"], registers });
      const db = options.db;
      // Read from the table: with several processes the latest attestation may be another process's.
      this.#issued = new Gauge({
        name: "tenge_gateway_collateral_attestation_timestamp_seconds",
        help: "Unix time of the latest attestation (issued by any gateway process)",
        registers,
        async collect() {
          const row = (await db.query<{ issued_at: Date | null }>("SELECT max(issued_at) AS issued_at FROM proof_of_collateral.attestations")).rows[0];
          if (row?.issued_at) this.set(new Date(row.issued_at).getTime() / 1000);
        },
      });
    }
  }

  /** The latest served document as JSON text, loading it from the database after a restart. */
  async latestJson(): Promise<string | undefined> {
    if (this.#latest) return this.#latest.json;
    const row = (await this.#options.db.query<{ id: bigint; document: string }>("SELECT id, document FROM proof_of_collateral.attestations ORDER BY id DESC LIMIT 1")).rows[0];
    if (!row) return undefined;
    this.#latest = { json: row.document, bytes: Buffer.from(row.document), document: JSON.parse(row.document) as ServedDocument, id: String(row.id) };
    return row.document;
  }

  /** The cached JSON without touching the database (undefined until the first renew or load). */
  get cachedJson(): string | undefined {
    return this.#latest?.json;
  }

  /** The cached JSON as UTF-8 bytes, ready to write to a socket. */
  get cachedBytes(): Buffer | undefined {
    return this.#latest?.bytes;
  }

  /**
   * The timed attestation: issues one when this process is the first to claim the current interval's
   * slot in the database, else loads the latest one (another process's) so this process serves it too.
   * Several processes calling this at any pace issue one attestation per interval between them.
   */
  async renewForInterval(intervalMs: number): Promise<"issued" | "loaded"> {
    const slot = BigInt(Math.floor((this.#options.now ?? (() => new Date()))().getTime() / intervalMs));
    const claimed = await this.#options.db.query(
      "INSERT INTO proof_of_collateral.attestation_slots (interval_ms, slot) VALUES ($1, $2) ON CONFLICT DO NOTHING",
      [intervalMs, slot],
    );
    if (claimed.rowCount === 1) {
      await this.renew();
      return "issued";
    }
    await this.reload();
    return "loaded";
  }

  /** Replaces the cached document with the newest in the table, when another process issued a newer one. */
  async reload(): Promise<void> {
    const row = (await this.#options.db.query<{ id: bigint; document: string }>("SELECT id, document FROM proof_of_collateral.attestations ORDER BY id DESC LIMIT 1")).rows[0];
    if (!row || (this.#latest && BigInt(this.#latest.id) >= BigInt(row.id))) return;
    this.#latest = { json: row.document, bytes: Buffer.from(row.document), document: JSON.parse(row.document) as ServedDocument, id: String(row.id) };
    this.#report(this.#latest.document.attestation);
  }

  /**
   * Issues a new attestation. Calls that arrive while one is being issued share it and then trigger one
   * more, so a mint that lands mid-way is always reflected by the next document.
   */
  renew(): Promise<AttestationDocument> {
    if (this.#renewing) {
      this.#again = true;
      return this.#renewing;
    }
    this.#renewing = (async () => {
      try {
        let document = await this.#issue();
        while (this.#again) {
          this.#again = false;
          document = await this.#issue();
        }
        return document;
      } finally {
        this.#renewing = undefined;
      }
    })();
    return this.#renewing;
  }

  async #issue(): Promise<AttestationDocument> {
    const { chains, ledger, segregatedAccount, db } = this.#options;
    const now = this.#options.now ?? (() => new Date());
    const maxAge = this.#options.maxStatementAgeSeconds ?? (await strictestStatementAge(chains));
    // The statement is about the one pool; its domain names the default chain's token (the verifier checks
    // it names one of the chains, so it cannot be a statement of another wallet's token).
    const domain = { chainId: chains[0]!.chainId, verifyingContract: chains[0]!.chain.token };
    let attestation: Attestation | undefined;
    // Read every chain's supply first, then the statement: DT for any mint in those blocks was deposited
    // before, so the statement covers it. A redemption paid in between can still make one reading look
    // short; read once more before raising the alert.
    for (let attempt = 0; attempt < 3; attempt++) {
      const readings = await Promise.all(chains.map((entry) => readChain(entry.chain)));
      const statement = await ledger.collateralStatement({ accountId: segregatedAccount, domain });
      attestation = buildAttestation(statement, readings, maxAge, now());
      if (!attestation.status.alerts.some((alert) => alert.code === "UNDER_COLLATERALISED")) break;
    }
    const signed = attestation!;
    const rpcUrls = Object.fromEntries(chains.map((entry) => [String(entry.chainId), entry.publicRpcUrl ?? null]));
    const rpcArguments = chains.map((entry) => `--rpc ${entry.chainId}=${entry.publicRpcUrl ?? "RPC_URL"}`).join(" ");
    const document: AttestationDocument = {
      attestation: signed,
      gatewaySignature: signAttestation(signed, this.#options.signingKey),
      verification: {
        rpcUrl: chains[0]!.publicRpcUrl ?? null,
        rpcUrls,
        cli: `npx tenge-gateway collateral verify --url ${this.#options.publicUrl ?? "GATEWAY_URL"} ${rpcArguments}`,
        steps: VERIFICATION_STEPS,
      },
    };
    const json = JSON.stringify(document);
    const id = await db.transaction(async (tx) => {
      const inserted = await tx.query<{ id: bigint }>(
        `INSERT INTO proof_of_collateral.attestations (issued_at, collateral, supply, ledger_height, block_number, healthy, alerts, document)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
        [
          new Date(signed.issuedAt),
          BigInt(signed.collateral.balance),
          BigInt(signed.totalSupply),
          BigInt(signed.collateral.height),
          BigInt(signed.chains[0]!.blockNumber),
          signed.status.state === "healthy",
          signed.status.alerts.map((alert) => alert.code),
          json,
        ],
      );
      const attestationId = inserted.rows[0]!.id;
      for (const [position, chain] of signed.chains.entries()) {
        await tx.query(
          `INSERT INTO proof_of_collateral.attestation_chains (attestation_id, position, chain_id, token, supply, block_number, issuance_limit)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [attestationId, position, chain.chainId, chain.token, BigInt(chain.supply), BigInt(chain.blockNumber), chain.allotment ? BigInt(chain.allotment.issuanceLimit) : null],
        );
      }
      return attestationId;
    });
    this.#latest = { json, bytes: Buffer.from(json), document, id: String(id) };
    this.#report(signed);
    return document;
  }

  #report(attestation: Attestation | AttestationV1): void {
    this.#ratio?.set(attestation.ratio === null ? 0 : Number(attestation.ratio));
    this.#issued?.set(Date.parse(attestation.issuedAt) / 1000);
    for (const code of ["UNDER_COLLATERALISED", "STATEMENT_STALE"]) {
      this.#alert?.set({ code }, attestation.status.alerts.some((alert) => alert.code === code) ? 1 : 0);
    }
    for (const alert of attestation.status.alerts) {
      this.#options.logger?.error({ event: "collateral.alert", code: alert.code, ratio: attestation.ratio }, alert.message);
    }
  }

  /** Attestations newest first, each with its chains; `before` is the id of the last entry of the previous page. */
  async history(limit: number, before?: string): Promise<Page<HistoryEntry>> {
    const rows = (
      await this.#options.db.query<{
        id: bigint;
        issued_at: Date;
        collateral: bigint;
        supply: bigint;
        ledger_height: bigint;
        block_number: bigint;
        healthy: boolean;
        alerts: string[];
      }>(
        `SELECT id, issued_at, collateral, supply, ledger_height, block_number, healthy, alerts FROM proof_of_collateral.attestations
          WHERE ($1::int8 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2`,
        [before === undefined ? null : BigInt(before), limit + 1],
      )
    ).rows;
    const page = rows.slice(0, limit);
    const chainRows = page.length === 0
      ? []
      : (
          await this.#options.db.query<{ attestation_id: bigint; chain_id: bigint; token: string; supply: bigint; block_number: bigint; issuance_limit: bigint | null }>(
            `SELECT attestation_id, chain_id, token, supply, block_number, issuance_limit FROM proof_of_collateral.attestation_chains
              WHERE attestation_id = ANY($1::int8[]) ORDER BY attestation_id, position`,
            [page.map((row) => String(row.id))],
          )
        ).rows;
    const chainsOf = new Map<string, HistoryChainEntry[]>();
    for (const row of chainRows) {
      const entries = chainsOf.get(String(row.attestation_id)) ?? [];
      entries.push({
        chainId: Number(row.chain_id),
        token: row.token,
        supply: formatKzt(BigInt(row.supply)),
        blockNumber: String(row.block_number),
        issuanceLimit: row.issuance_limit === null ? null : formatKzt(BigInt(row.issuance_limit)),
      });
      chainsOf.set(String(row.attestation_id), entries);
    }
    return {
      items: page.map((row) => ({
        id: String(row.id),
        issuedAt: row.issued_at.toISOString(),
        collateral: formatKzt(BigInt(row.collateral)),
        supply: formatKzt(BigInt(row.supply)),
        currency: KZT,
        ratio: formatRatio(BigInt(row.collateral), BigInt(row.supply)),
        ledgerHeight: String(row.ledger_height),
        blockNumber: String(row.block_number),
        healthy: row.healthy,
        alerts: row.alerts,
        chains: chainsOf.get(String(row.id)) ?? [],
      })),
      next: rows.length > limit ? String(page[page.length - 1]!.id) : null,
    };
  }
}

/** The tokens' statement age limits differ per chain; the strictest one decides when a statement is stale. */
async function strictestStatementAge(chains: readonly AttestedChain[]): Promise<bigint> {
  const ages = await Promise.all(chains.map((entry) => entry.chain.maxStatementAge()));
  return ages.reduce((lowest, age) => (age < lowest ? age : lowest));
}

/** One chain's supply and allotment, both at its latest block. */
async function readChain(chain: SupplyChain): Promise<ChainReading> {
  const block = await chain.latestBlock();
  const [supply, issuance] = await Promise.all([chain.totalSupply(block.number), chain.issuance ? chain.issuance(block.number) : undefined]);
  const allotment = issuance && (issuance.required || issuance.sequence > 0n)
    ? { sequence: issuance.sequence, issuanceLimit: issuance.issuanceLimit, issued: issuance.issued, required: issuance.required }
    : null;
  return { chainId: chain.chainId, token: chain.token, blockNumber: block.number, blockHash: block.hash, blockTimestamp: block.timestamp, supply, allotment };
}
