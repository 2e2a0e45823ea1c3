import { PGlite } from '@electric-sql/pglite';
import type { Logger } from '@stockgraph/logger';
import { sql } from 'drizzle-orm';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import { isTracing } from '@stockgraph/telemetry';
import postgres from 'postgres';
import { openRecyclablePool } from './pool.js';
import { ReadReplicas, type ReplicaSettings } from './read-replicas.js';
import { countPoolUsage, type PoolUsage } from './pool-usage.js';
import { preparedStatements } from './prepared.js';
import { traceStatements } from './statement-spans.js';

/** Anything that runs queries: the pool or a transaction (a `Tx` is a `Database` too). */
export type Database<TSchema extends Record<string, unknown> = Record<string, never>> = PgDatabase<
  PgQueryResultHKT,
  TSchema
>;

/**
 * An open transaction. Write paths whose changes must commit together with their outbox rows take a
 * `Tx`, so handing them the pool (which would commit each statement on its own) does not compile.
 */
export type Tx<TSchema extends Record<string, unknown> = Record<string, never>> = PgTransaction<
  PgQueryResultHKT,
  TSchema,
  ExtractTablesWithRelations<TSchema>
>;

export interface DatabaseOptions<TSchema extends Record<string, unknown>> {
  /** postgres:// URL; without it the embedded PGlite serves. */
  url?: string | undefined;
  /** A PGlite instance shared by several services in one process (the embedded launcher). */
  pglite?: PGlite | undefined;
  /** Where a private PGlite keeps its files when neither `url` nor `pglite` is given. */
  pgliteDir?: string | undefined;
  poolMax?: number;
  /** Statements with parameters as named prepared statements (postgres.js only; see prepared.ts). Default true. */
  preparedStatements?: boolean;
  schema: TSchema;
  logger: Logger;
  /** Called once per SQL statement sent; feeds the statement counter in /metrics. */
  onQuery?: (statement: string) => void;
  /**
   * PostgreSQL ends a session left idle inside a transaction this long (milliseconds; 0: never).
   * Every transaction here runs its statements back to back, so one that idles has lost its client:
   * ending it frees its row locks and its pool connection instead of blocking writers indefinitely.
   */
  idleInTransactionTimeoutMs?: number;
  /** Streaming replicas of `url` that may serve reads (postgres.js only; PGlite has none). */
  replicas?: ReplicaSettings & {
    urls: string[];
    /** The replica the current request reads from (an index into `urls`), or undefined for the primary. */
    route: () => number | undefined;
    /** Called when a statement a replica could not run was run on the primary instead. */
    onRetried?: (index: number) => void;
  };
}

/** Longer than any transaction of ours pauses between statements, short enough to unblock writers. */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 15_000;

export interface DatabaseHandle<TSchema extends Record<string, unknown>> {
  db: Database<TSchema>;
  driver: 'postgres' | 'pglite';
  /** Applies the service's Drizzle migrations, recorded in `<migrationsSchema>.__drizzle_migrations`. */
  migrate(migrationsFolder: string, migrationsSchema: string): Promise<void>;
  ping(): Promise<void>;
  /** Work in flight against the pool and its size (PGlite: one connection). */
  poolUsage(): PoolUsage;
  /**
   * Calls `onMessage` with the payload of every NOTIFY on `channel`, from any connection of any
   * process on this database; resolves once listening. Notifications are sent at commit, so a
   * listener hears only what committed.
   */
  listen(channel: string, onMessage: (payload: string) => void): Promise<{ stop(): Promise<void> }>;
  /** The read replicas, when the service has any. */
  replicas?: ReadReplicas;
  close(): Promise<void>;
}

/**
 * Seconds a connection waits before its next attempt after `retries` failed ones. postgres.js's own
 * grows to 20 s, and a statement handed to a connection that is waiting waits with it: during a
 * database outage the background work (outbox relay, consumers, readiness pings) soon pushes the wait
 * past the gateway's subgraph timeout, and clients get timeouts instead of a prompt SERVICE_UNAVAILABLE
 * they can retry on. Capped at one second, with jitter so a pool's connections do not retry in step:
 * at most a pool's worth of attempts a second per process, which a recovering server takes easily.
 */
export function reconnectBackoff(retries: number): number {
  return (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 1);
}

export async function openDatabase<TSchema extends Record<string, unknown>>(
  options: DatabaseOptions<TSchema>,
): Promise<DatabaseHandle<TSchema>> {
  const { schema, onQuery } = options;
  const logger = {
    logQuery(query: string) {
      onQuery?.(query);
      options.logger.trace({ sql: query }, 'sql');
    },
  };

  if (options.url) {
    const max = options.poolMax ?? 10;
    const poolOptions = {
      max,
      idle_timeout: 30,
      connect_timeout: 10,
      backoff: reconnectBackoff,
      // Notices (e.g. "schema already exists, skipping") are expected during migrations.
      onnotice: () => {},
      // Sent as a startup parameter, so it holds on every connection, reconnects included.
      connection: {
        idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? IDLE_IN_TRANSACTION_TIMEOUT_MS,
      },
    };
    const pool = openRecyclablePool(
      options.url,
      poolOptions,
      // Drizzle sets its type parsers on the client it wraps: a replacement pool gets them too.
      (client) => void drizzlePostgres({ client }),
      options.logger,
    );
    // Without a tracer provider the client is used as is: no wrapper on the path of every statement.
    const primary = options.preparedStatements === false ? pool.client : preparedStatements(pool.client);
    const traced = isTracing() ? traceStatements(primary, connectionAttributes(options.url)) : primary;
    const { client: counted, usage } = countPoolUsage(traced, max);
    const replicaPools = (options.replicas?.urls ?? []).map((url) => {
      const replica = postgres(url, poolOptions);
      drizzlePostgres({ client: replica });
      const prepared = options.preparedStatements === false ? replica : preparedStatements(replica);
      return { replica, traced: isTracing() ? traceStatements(prepared, connectionAttributes(url)) : prepared };
    });
    const replicas =
      options.replicas && replicaPools.length > 0
        ? new ReadReplicas(
            counted,
            replicaPools.map((r) => r.traced),
            options.replicas,
            options.logger,
          )
        : undefined;
    const client = replicas ? replicas.router(options.replicas!.route, options.replicas!.onRetried) : counted;
    const db = drizzlePostgres({ client, schema, logger });
    return {
      db,
      driver: 'postgres',
      poolUsage: usage,
      migrate: (migrationsFolder, migrationsSchema) =>
        migratePostgres(db, { migrationsFolder, migrationsSchema, migrationsTable: '__drizzle_migrations' }),
      ping: pool.ping,
      // postgres.js listens on a connection of its own and listens again after reconnecting. A pool
      // replaced after it stopped answering takes its listeners with it; waiters then fall back to
      // their periodic re-read.
      listen: async (channel, onMessage) => {
        const listening = await pool.client.listen(channel, onMessage);
        return { stop: () => listening.unlisten() };
      },
      replicas,
      close: async () => {
        replicas?.stop();
        await Promise.all(replicaPools.map((r) => r.replica.end({ timeout: 5 })));
        await pool.close();
      },
    };
  }

  const owned = !options.pglite;
  const client = options.pglite ?? (await openPglite(options.pgliteDir ?? 'memory://'));
  const db = drizzlePglite({ client, schema, logger });
  return {
    db,
    driver: 'pglite',
    poolUsage: () => ({ inFlight: 0, max: 1 }),
    migrate: (migrationsFolder, migrationsSchema) =>
      migratePglite(db, { migrationsFolder, migrationsSchema, migrationsTable: '__drizzle_migrations' }),
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    listen: async (channel, onMessage) => {
      const unsubscribe = await client.listen(channel, onMessage);
      return { stop: () => unsubscribe() };
    },
    close: async () => {
      if (owned) await client.close();
    },
  };
}

/**
 * An embedded database with 32 MB of shared buffers instead of PostgreSQL's 128 MB: PGlite allocates
 * and initialises them in WebAssembly on the main thread at every open, which took ~300 ms of the
 * ~850 ms an open of the demo database takes here; the demo data (~100 MB, its hot part far smaller)
 * reads from the operating system's page cache beyond them anyway.
 */
export function openPglite(dataDir: string): Promise<PGlite> {
  return PGlite.create(dataDir, {
    startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB'],
  });
}

/** Where statements go, for their spans; never the credentials. */
function connectionAttributes(url: string) {
  const parsed = new URL(url);
  return {
    'db.namespace': decodeURIComponent(parsed.pathname.slice(1)) || undefined,
    'server.address': parsed.hostname,
    'server.port': Number(parsed.port || 5432),
  };
}

/** `db.execute()` answers an array on postgres.js and `{ rows }` on PGlite; repositories want rows. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
