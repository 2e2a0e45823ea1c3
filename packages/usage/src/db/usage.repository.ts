/**
 * Every statement on the usage store: the recorder's upsert and retention, and the reads of
 * schema:check --usage and `stockgraph usage report`. Windows are whole UTC hours counted back from
 * the current one, the unit rows are kept in.
 */
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { Sql } from 'postgres';
import type { UsageRow } from '../aggregator.js';

const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Creates or updates the `usage` schema the way every subgraph does its own: drizzle-kit's versioned
 * migrations, recorded in `usage.__drizzle_migrations`, so running it again is a no-op.
 */
export async function migrateUsageStore(sql: Sql): Promise<void> {
  await migrate(drizzle({ client: sql }), {
    migrationsFolder: MIGRATIONS_FOLDER,
    migrationsSchema: 'usage',
    migrationsTable: '__drizzle_migrations',
  });
}

/**
 * Adds a flush's counts in one statement, however many rows: arrays unnested server side (a VALUES
 * list would meet the 65,535-parameter limit at 9,362 rows). Replicas add into the same rows.
 */
export async function addUsage(sql: Sql, rows: readonly UsageRow[], sampleRate: number): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    insert into usage.coordinate_usage as u (hour, client_name, client_version, coordinate, count, samples, last_seen)
    select * from unnest(
      ${sql.array(rows.map((r) => r.hour.toISOString()))}::timestamptz[],
      ${sql.array(rows.map((r) => r.clientName))}::text[],
      ${sql.array(rows.map((r) => r.clientVersion))}::text[],
      ${sql.array(rows.map((r) => r.coordinate))}::text[],
      ${sql.array(rows.map((r) => String(Math.max(1, Math.round(r.samples / sampleRate)))))}::bigint[],
      ${sql.array(rows.map((r) => String(r.samples)))}::bigint[],
      ${sql.array(rows.map((r) => r.lastSeen.toISOString()))}::timestamptz[]
    )
    on conflict (coordinate, client_name, client_version, hour) do update
    set count = u.count + excluded.count,
        samples = u.samples + excluded.samples,
        last_seen = greatest(u.last_seen, excluded.last_seen)`;
}

/** Deletes the hours older than the retention; answers how many rows went. */
export async function deleteUsageOlderThan(sql: Sql, days: number): Promise<number> {
  const result = await sql`
    delete from usage.coordinate_usage where hour < date_trunc('hour', now()) - make_interval(days => ${days}::int)`;
  return result.count;
}

/** Whether the store holds the usage table at all (a --usage URL pointing elsewhere does not). */
export async function usageTableExists(sql: Sql): Promise<boolean> {
  const [row] = await sql<{ t: string | null }[]>`select to_regclass('usage.coordinate_usage')::text as t`;
  return Boolean(row?.t);
}

/** The first hour any usage is kept for: a window longer than what was recorded says less than it seems. */
export async function usageRecordedSince(sql: Sql): Promise<Date | null> {
  const [row] = await sql<{ first: Date | null }[]>`select min(hour) as first from usage.coordinate_usage`;
  return row?.first ?? null;
}

export interface ClientCoordinateUsage {
  coordinate: string;
  clientName: string;
  clientVersion: string;
  /** Operations, estimated when the recorder sampled. */
  count: number;
  samples: number;
  lastSeen: Date;
}

/**
 * Who used these coordinates within the window, per client version: `coordinates` exactly, and any
 * coordinate of the `types` (a removed type breaks whoever used any of its members).
 */
export async function usageByClient(
  sql: Sql,
  query: { coordinates: readonly string[]; types: readonly string[]; days: number },
): Promise<ClientCoordinateUsage[]> {
  if (query.coordinates.length === 0 && query.types.length === 0) return [];
  return sql<ClientCoordinateUsage[]>`
    select coordinate, client_name as "clientName", client_version as "clientVersion",
           sum(count)::float8 as count, sum(samples)::float8 as samples, max(last_seen) as "lastSeen"
    from usage.coordinate_usage
    where hour >= date_trunc('hour', now()) - make_interval(days => ${query.days}::int)
      and (coordinate = any(${sql.array([...query.coordinates])}::text[])
           or split_part(coordinate, '.', 1) = any(${sql.array([...query.types])}::text[]))
    group by coordinate, client_name, client_version
    order by coordinate, count desc, client_name, client_version`;
}

export interface CoordinateTotal {
  coordinate: string;
  count: number;
  samples: number;
  /** Distinct client name/version pairs that used it. */
  clients: number;
  lastSeen: Date;
}

/** The most used coordinates within the window. */
export async function busiestCoordinates(sql: Sql, query: { days: number; top: number }): Promise<CoordinateTotal[]> {
  return sql<CoordinateTotal[]>`
    select coordinate, sum(count)::float8 as count, sum(samples)::float8 as samples,
           count(distinct (client_name, client_version))::int as clients, max(last_seen) as "lastSeen"
    from usage.coordinate_usage
    where hour >= date_trunc('hour', now()) - make_interval(days => ${query.days}::int)
    group by coordinate
    order by count desc, coordinate
    limit ${query.top}`;
}
