/** SQL the backup commands need: row counts per table of a schema, and whether a schema holds anything. */
import { IDENT } from './status.repository.js';

/** Any client that runs a query and answers rows: postgres.js and PGlite both fit behind this. */
export type Query = <T extends object>(text: string) => Promise<T[]>;

/**
 * Exact row counts of every table of a schema (partitioned parents counted whole, their partitions
 * not again): what a restored copy must hold.
 */
export async function schemaRowCounts(query: Query, schema: string): Promise<Record<string, number>> {
  if (!IDENT.test(schema)) throw new Error('invalid schema name');
  const tables = await query<{ name: string }>(`
    select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = '${schema}' and c.relkind in ('r', 'p') and not c.relispartition order by c.relname`);
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const [row] = await query<{ n: string | number }>(
      `select count(*)::text as n from "${schema}"."${name.replace(/"/g, '""')}"`,
    );
    counts[name] = Number(row?.n ?? 0);
  }
  return counts;
}

/** Tables of a schema; a restore goes only into a database where the schema has none. */
export async function schemaTables(query: Query, schema: string): Promise<number> {
  if (!IDENT.test(schema)) throw new Error('invalid schema name');
  const [row] = await query<{ n: string | number }>(`
    select count(*)::text as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = '${schema}' and c.relkind in ('r', 'p')`);
  return Number(row?.n ?? 0);
}

export function dropSchemaSql(schema: string): string {
  if (!IDENT.test(schema)) throw new Error('invalid schema name');
  return `drop schema if exists "${schema}" cascade`;
}

export async function schemaComment(query: Query, schema: string): Promise<string | null> {
  if (!IDENT.test(schema)) throw new Error('invalid schema name');
  const [row] = await query<{ c: string | null }>(
    `select obj_description(oid, 'pg_namespace') as c from pg_namespace where nspname = '${schema}'`,
  );
  return row?.c ?? null;
}

/** The newest migration recorded in a schema (drizzle's created_at is the journal's `when`). */
export async function latestMigration(query: Query, schema: string): Promise<number | null> {
  if (!IDENT.test(schema)) throw new Error('invalid schema name');
  const [exists] = await query<{ t: string | null }>(
    `select to_regclass('"${schema}".__drizzle_migrations')::text as t`,
  );
  if (!exists?.t) return null;
  const [row] = await query<{ w: string | number | null }>(
    `select max(created_at)::text as w from "${schema}".__drizzle_migrations`,
  );
  return row?.w == null ? null : Number(row.w);
}

export async function createDatabase(query: Query, name: string): Promise<void> {
  if (!IDENT.test(name)) throw new Error('invalid database name');
  await query(`create database "${name}"`);
}

export async function dropDatabase(query: Query, name: string): Promise<void> {
  if (!IDENT.test(name)) throw new Error('invalid database name');
  await query(`drop database if exists "${name}" with (force)`);
}
