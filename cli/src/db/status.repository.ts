import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rowsOf, type Database, type PartitionedTable } from '@stockgraph/db';

export interface MigrationStatus {
  applied: { tag: string; appliedAt: string }[];
  pending: string[];
}

export interface PartitionStatus {
  table: string;
  partitions: { name: string; range: string; estimatedRows: number }[];
  /** Rows that found no monthly partition: each is a month that was not created ahead in time. */
  defaultRows: number;
}

interface JournalEntry {
  tag: string;
  when: number;
}

/** The migrations a subgraph ships, in order, from drizzle-kit's journal. */
export function shippedMigrations(migrationsFolder: string): JournalEntry[] {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: JournalEntry[];
  };
  return journal.entries;
}

/**
 * Drizzle records each applied migration with the journal's `when` as created_at and applies every
 * shipped one newer than the last recorded: the same rule decides what is pending here.
 */
export async function migrationStatus(
  db: Database<Record<string, unknown>>,
  schema: string,
  folder: string,
): Promise<MigrationStatus> {
  if (!IDENT.test(schema)) throw new Error('invalid schema name');
  const shipped = shippedMigrations(folder);
  const exists = rowsOf<{ t: string | null }>(
    await db.execute(`select to_regclass('"${schema}".__drizzle_migrations')::text as t`),
  );
  if (!exists[0]?.t) return { applied: [], pending: shipped.map((m) => m.tag) };
  const rows = rowsOf<{ created_at: string | number }>(
    await db.execute(`select created_at from "${schema}".__drizzle_migrations order by created_at`),
  );
  const appliedAt = new Set(rows.map((r) => Number(r.created_at)));
  const last = rows.length > 0 ? Number(rows[rows.length - 1]!.created_at) : -Infinity;
  return {
    applied: shipped
      .filter((m) => appliedAt.has(m.when))
      .map((m) => ({ tag: m.tag, appliedAt: new Date(m.when).toISOString() })),
    pending: shipped.filter((m) => m.when > last).map((m) => m.tag),
  };
}

// Identifiers here come from the subgraph definitions, never from input, and are checked as plain names.
export const IDENT = /^[a-z_][a-z0-9_]*$/;

/** Partitions with the planner's row estimates (cheap on big tables) and an exact count of DEFAULT. */
export async function partitionStatus(
  db: Database<Record<string, unknown>>,
  target: PartitionedTable,
): Promise<PartitionStatus> {
  if (!IDENT.test(target.schema) || !IDENT.test(target.table)) throw new Error('invalid partitioned table name');
  const partitions = rowsOf<{ name: string; range: string; estimate: string | number }>(
    await db.execute(`
      select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as range, greatest(c.reltuples, 0)::bigint as estimate
      from pg_inherits i
      join pg_class c on c.oid = i.inhrelid
      join pg_class p on p.oid = i.inhparent
      join pg_namespace n on n.oid = p.relnamespace
      where n.nspname = '${target.schema}' and p.relname = '${target.table}'
      order by c.relname`),
  );
  const defaultName = `${target.table}_default`;
  const hasDefault = partitions.some((p) => p.name === defaultName);
  const defaultRows = hasDefault
    ? Number(
        rowsOf<{ n: string | number }>(
          await db.execute(`select count(*) as n from "${target.schema}"."${defaultName}"`),
        )[0]?.n ?? 0,
      )
    : 0;
  return {
    table: `${target.schema}.${target.table}`,
    partitions: partitions.map((p) => ({ name: p.name, range: p.range, estimatedRows: Number(p.estimate) })),
    defaultRows,
  };
}
