import type { Logger } from '@stockgraph/logger';
import { sql } from 'drizzle-orm';
import type { Database } from './database.js';
import { rowsOf } from './database.js';

export interface PartitionedTable {
  schema: string;
  table: string;
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

function monthStart(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
}

function addMonths(date: Date, months: number): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));
}

export function partitionName(table: string, month: Date): string {
  return `${table}_${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

/**
 * Creates one partition per month covering [from, to], skipping those that exist. A month whose rows
 * already sit in the DEFAULT partition cannot get its own partition (Postgres refuses); that is
 * reported, not fatal, because moving rows out of DEFAULT would cascade deletes to child tables.
 */
export async function ensureMonthlyPartitions(
  db: Database<never> | Database<Record<string, unknown>>,
  target: PartitionedTable,
  from: Date,
  to: Date,
): Promise<{ created: string[]; failed: { partition: string; reason: string }[] }> {
  if (!IDENT.test(target.schema) || !IDENT.test(target.table)) throw new Error('invalid partitioned table name');
  const existing = new Set(
    rowsOf<{ name: string }>(
      await db.execute(sql`
        select c.relname as name
        from pg_inherits i
        join pg_class c on c.oid = i.inhrelid
        join pg_class p on p.oid = i.inhparent
        join pg_namespace n on n.oid = p.relnamespace
        where n.nspname = ${target.schema} and p.relname = ${target.table}`),
    ).map((r) => r.name),
  );
  const created: string[] = [];
  const failed: { partition: string; reason: string }[] = [];
  for (let month = monthStart(from); month <= to; month = addMonths(month, 1)) {
    const name = partitionName(target.table, month);
    if (existing.has(name)) continue;
    const lower = month.toISOString();
    const upper = addMonths(month, 1).toISOString();
    try {
      await db.execute(
        sql.raw(
          `create table if not exists "${target.schema}"."${name}" partition of "${target.schema}"."${target.table}" ` +
            `for values from ('${lower}') to ('${upper}')`,
        ),
      );
      created.push(name);
    } catch (error) {
      failed.push({ partition: name, reason: (error as Error).message });
    }
  }
  return { created, failed };
}

/** Rows in DEFAULT partitions mean a month was not created ahead in time: an operator should know. */
export async function defaultPartitionRows(
  db: Database<never> | Database<Record<string, unknown>>,
  target: PartitionedTable,
) {
  const result = await db.execute(
    sql.raw(`select count(*)::int as n from "${target.schema}"."${target.table}_default"`),
  );
  return rowsOf<{ n: number }>(result)[0]?.n ?? 0;
}

export interface PartitionMaintenance {
  stop(): void;
  /** Resolves once the start-up pass has run. */
  ready: Promise<void>;
}

/**
 * Keeps `monthsAhead` months of partitions ready: once at start, then on a timer, so inserts never
 * fall into DEFAULT because nobody created next month in time.
 */
export function maintainPartitions(
  db: Database<never> | Database<Record<string, unknown>>,
  tables: PartitionedTable[],
  logger: Logger,
  { monthsAhead = 3, intervalMs = 6 * 60 * 60 * 1000 } = {},
): PartitionMaintenance {
  const run = async () => {
    const now = new Date();
    for (const table of tables) {
      const { created, failed } = await ensureMonthlyPartitions(db, table, now, addMonths(now, monthsAhead));
      if (created.length > 0) logger.info({ table: `${table.schema}.${table.table}`, created }, 'partitions created');
      for (const f of failed)
        logger.error({ table: `${table.schema}.${table.table}`, ...f }, 'partition creation failed');
      const stray = await defaultPartitionRows(db, table);
      if (stray > 0) logger.warn({ table: `${table.schema}.${table.table}`, rows: stray }, 'rows in DEFAULT partition');
    }
  };
  const guarded = () => run().catch((error) => logger.error({ err: error }, 'partition maintenance failed'));
  const timer = setInterval(() => void guarded(), intervalMs);
  timer.unref();
  return { ready: run(), stop: () => clearInterval(timer) };
}
