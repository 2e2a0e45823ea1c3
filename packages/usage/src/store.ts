import { redactUrl } from '@stockgraph/config';
import postgres, { type Sql } from 'postgres';
import type { UsageRow } from './aggregator.js';
import { addUsage, deleteUsageOlderThan, migrateUsageStore, usageTableExists } from './db/usage.repository.js';

/** Raised when the usage store cannot be read: unreachable, or not a usage store at all. */
export class UsageStoreError extends Error {
  override name = 'UsageStoreError';
}

export { redactUrl };

/** A statement that takes longer has met a server in trouble; the batch is dropped rather than waited for. */
const STATEMENT_TIMEOUT_MS = 15_000;

function connect(url: string, applicationName: string): Sql {
  return postgres(url, {
    // One connection: a flush is one statement, and the store must never take a pool's worth of
    // connections from a database that may be shared with a subgraph.
    max: 1,
    connect_timeout: 5,
    idle_timeout: 30,
    onnotice: () => {},
    connection: { application_name: applicationName, statement_timeout: STATEMENT_TIMEOUT_MS },
  });
}

/**
 * The recorder's connection to its store. The schema is migrated before the first write and again
 * after any failure (the store may have been down at start, or replaced). A client that did not
 * answer within the deadline is replaced: postgres.js can be left waiting for the answer to a query
 * it never sent after a restart (see packages/db/src/pool.ts), and every later flush would queue
 * behind it.
 */
export class UsageWriter {
  private sql: Sql;
  /** The migration, once started: a flush and the retention pass at start share it. */
  private migrated: Promise<void> | undefined;

  constructor(private readonly url: string) {
    this.sql = connect(url, 'stockgraph-gateway-usage');
  }

  async write(rows: readonly UsageRow[], sampleRate: number): Promise<void> {
    await this.ready();
    await addUsage(this.sql, rows, sampleRate);
  }

  async deleteOlderThan(days: number): Promise<number> {
    await this.ready();
    return deleteUsageOlderThan(this.sql, days);
  }

  /** After a failure: migrate again before the next write, on a fresh client if this one hung. */
  reset(hung: boolean): void {
    this.migrated = undefined;
    if (!hung) return;
    const stuck = this.sql;
    this.sql = connect(this.url, 'stockgraph-gateway-usage');
    void stuck.end({ timeout: 0 }).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }

  private ready(): Promise<void> {
    this.migrated ??= migrateUsageStore(this.sql);
    return this.migrated;
  }
}

/** A read-only connection for schema:check and the CLI; refuses a database without a usage table. */
export async function openUsageReader(url: string): Promise<Sql> {
  const sql = connect(url, 'stockgraph-usage-reader');
  let exists: boolean;
  try {
    exists = await usageTableExists(sql);
  } catch (error) {
    await sql.end({ timeout: 0 });
    throw new UsageStoreError(`cannot reach the usage database ${redactUrl(url)}: ${(error as Error).message}`);
  }
  if (!exists) {
    await sql.end({ timeout: 0 });
    throw new UsageStoreError(
      `${redactUrl(url)} holds no usage table (usage.coordinate_usage): use the database the gateway's USAGE_DATABASE_URL names`,
    );
  }
  return sql;
}
