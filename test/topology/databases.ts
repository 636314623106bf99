/**
 * The run's PostgreSQL databases, created on the local server (TOPOLOGY_POSTGRES_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres) and dropped at the end, also after a failure.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

export class DatabaseSet {
  readonly serverUrl: string;
  private readonly names: string[] = [];
  private readonly prefix = `tg_topology_${randomBytes(4).toString("hex")}`;
  constructor(serverUrl: string) {
    this.serverUrl = serverUrl;
  }

  /** Creates an empty database and returns its connection string. */
  async create(purpose: string): Promise<string> {
    const name = `${this.prefix}_${purpose}`;
    await this.admin(`CREATE DATABASE ${name}`);
    this.names.push(name);
    const url = new URL(this.serverUrl);
    url.pathname = `/${name}`;
    return url.toString();
  }

  /** Drops every database this set created (connections still open are closed by force). */
  async dropAll(): Promise<void> {
    for (const name of this.names.splice(0)) await this.admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }

  /** One query on a database of this set, for reading the ledgers' own records. */
  async query<T extends pg.QueryResultRow>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  private async admin(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}
