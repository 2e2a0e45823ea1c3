/**
 * The importer's SQL. Each service's rows are written only into that service's own tables; the
 * importer's bookkeeping (run, progress, old → new ids) lives in a `legacy_import` schema beside
 * them in each target database, so a chunk's rows and its "done" mark commit in one transaction.
 */
import { partitionName } from '@stockgraph/db';
import postgres from 'postgres';

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

export function connect(url: string, options: { analytic?: boolean } = {}): Sql {
  return postgres(url, {
    max: 2,
    onnotice: () => {},
    connect_timeout: 10,
    idle_timeout: 10,
    connection: {
      // Each chunk commits with its "done" mark, so a commit lost in a crash is a chunk redone on resume:
      // waiting for the WAL flush at each commit buys nothing here.
      synchronous_commit: 'off',
      // The verification's aggregates over millions of rows: compiling them (JIT, with inlining) cost
      // 0.5-1 s per query at a million orders and ran them no faster (EXPLAIN ANALYZE, PostgreSQL 15).
      ...(options.analytic ? { jit: 'off' } : {}),
    },
  });
}

export async function ensureBookkeeping(sql: Sql): Promise<void> {
  await sql.unsafe(`
    create schema if not exists legacy_import;
    create table if not exists legacy_import.run (
      singleton boolean primary key default true check (singleton),
      fingerprint text not null, file text not null, time_zone text not null,
      started_at timestamptz not null default now(), finished_at timestamptz);
    -- The content the last \`import sqlite --sync\` brought the targets to (its snapshot's SHA-256).
    alter table legacy_import.run add column if not exists synced_fingerprint text;
    alter table legacy_import.run add column if not exists synced_at timestamptz;
    create table if not exists legacy_import.progress (
      step text primary key, rows integer not null, done_at timestamptz not null default now());
    create table if not exists legacy_import.id_map (
      legacy_table text not null, legacy_id bigint not null, new_id uuid not null,
      primary key (legacy_table, legacy_id));
    -- What the unit's rows looked like when written (import/units.ts), for --sync; null from imports before it.
    alter table legacy_import.id_map add column if not exists digest text;
    create table if not exists legacy_import.deferred_index (
      name text primary key, definition text not null);`);
}

export interface RunRecord {
  fingerprint: string;
  file: string;
  timeZone: string;
  finishedAt: Date | null;
  syncedFingerprint: string | null;
}

export async function readRun(sql: Sql): Promise<RunRecord | null> {
  const exists = await sql`select to_regclass('legacy_import.run')::text as t`;
  if (!exists[0]?.t) return null;
  const [row] = await sql<
    { fingerprint: string; file: string; time_zone: string; finished_at: Date | null; synced: string | null }[]
  >`select fingerprint, file, time_zone, finished_at, to_jsonb(r) ->> 'synced_fingerprint' as synced
    from legacy_import.run r`;
  return row
    ? {
        fingerprint: row.fingerprint,
        file: row.file,
        timeZone: row.time_zone,
        finishedAt: row.finished_at,
        syncedFingerprint: row.synced,
      }
    : null;
}

export async function startRun(sql: Sql, run: Omit<RunRecord, 'finishedAt' | 'syncedFingerprint'>): Promise<void> {
  await sql`insert into legacy_import.run (fingerprint, file, time_zone) values (${run.fingerprint}, ${run.file}, ${run.timeZone})
    on conflict (singleton) do nothing`;
}

export async function finishRun(sql: Sql): Promise<void> {
  await sql`update legacy_import.run set finished_at = coalesce(finished_at, now())`;
}

export async function doneSteps(sql: Sql): Promise<Set<string>> {
  return new Set((await sql<{ step: string }[]>`select step from legacy_import.progress`).map((r) => r.step));
}

export async function markDone(tx: Tx, step: string, rows: number): Promise<void> {
  await tx`insert into legacy_import.progress (step, rows) values (${step}, ${rows})`;
}

/** Rows already in the tables an import would fill: an import goes only into empty services. */
export async function rowsIn(sql: Sql, tables: string[]): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const table of tables) {
    const [row] = await sql.unsafe<{ n: string }[]>(
      `select count(*)::text as n from (select 1 from ${table} limit 1) t`,
    );
    result[table] = Number(row?.n ?? 0);
  }
  return result;
}

export async function tablesExist(sql: Sql, tables: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const table of tables) {
    const [row] = await sql`select to_regclass(${table})::text as t`;
    if (!row?.t) missing.push(table);
  }
  return missing;
}

/** COPY escaping of the text format: backslash, tab, newline and carriage return; null is \N. */
export function copyField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value !== 'string') return String(value);
  // PostgreSQL text cannot hold NUL; the legacy snapshot replaces it, so one here is a bug to stop on.
  if (value.includes('\0')) throw new Error('a NUL character reached COPY');
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : value;
}

/** Bulk-writes rows (already COPY text lines) with COPY FROM STDIN: one round trip per chunk. */
export async function copyInto(tx: Tx, table: string, columns: string[], lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  const writable = await tx.unsafe(`copy ${table} (${columns.join(', ')}) from stdin`).writable();
  // A row the server refuses reaches the stream as an error (patches/postgres@3.4.9.patch: without
  // it, a refusal after the last row waited for ever, holding the transaction open).
  await new Promise<void>((resolve, reject) => {
    writable.on('error', reject);
    writable.on('finish', resolve);
    const size = 2000;
    for (let i = 0; i < lines.length; i += size) writable.write(`${lines.slice(i, i + size).join('\n')}\n`);
    writable.end();
  });
}

/** One unit of the id map as stored: what a legacy row became, and its digest (import/units.ts). */
export interface StoredUnit {
  newId: string;
  digest: string | null;
}

/**
 * The id map of these legacy tables, by table and legacy id. Read with COPY: a million-order import
 * maps about 3.4 million rows, and parsing them as query rows took twice as long.
 */
export async function storedUnits(sql: Sql, tables: string[]): Promise<Map<string, Map<number, StoredUnit>>> {
  const result = new Map<string, Map<number, StoredUnit>>(tables.map((t) => [t, new Map()]));
  const list = tables.map((t) => `'${t.replace(/'/g, "''")}'`).join(', ');
  const stream = await sql
    .unsafe(
      `copy (select legacy_table, legacy_id, new_id, digest from legacy_import.id_map where legacy_table in (${list})) to stdout`,
    )
    .readable();
  let rest = '';
  const take = (line: string) => {
    const [table, legacyId, newId, digest] = line.split('\t');
    result.get(table!)!.set(Number(legacyId), { newId: newId!, digest: digest === '\\N' ? null : digest! });
  };
  for await (const chunk of stream) {
    const text = rest + (chunk as Buffer).toString('utf8');
    const lines = text.split('\n');
    rest = lines.pop()!;
    for (const line of lines) take(line);
  }
  if (rest) take(rest);
  return result;
}

/** Inserts rows, or updates those whose key is already there (through a temporary copy of them). */
export async function upsertRows(tx: Tx, table: string, columns: string[], key: string[], lines: string[]) {
  if (lines.length === 0) return;
  const staging = `staged_${table.replace('.', '_')}`;
  // Only the columns written (a generated column of the table would be a plain NOT NULL one here).
  await tx.unsafe(`drop table if exists ${staging}`);
  await tx.unsafe(
    `create temp table ${staging} on commit drop as select ${columns.join(', ')} from ${table} with no data`,
  );
  await copyInto(tx, staging, columns, lines);
  const list = columns.join(', ');
  const updates = columns.filter((c) => !key.includes(c)).map((c) => `${c} = excluded.${c}`);
  await tx.unsafe(
    `insert into ${table} (${list}) select ${list} from ${staging}
     on conflict (${key.join(', ')}) do ${updates.length ? `update set ${updates.join(', ')}` : 'nothing'}`,
  );
}

export async function deleteRows(tx: Tx, table: string, column: string, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await tx.unsafe(`delete from ${table} where ${column} = any($1::uuid[])`, [ids]);
  return result.count;
}

/** Forgets id map entries of legacy rows that are gone (deleted, or now quarantined). */
export async function forgetUnits(tx: Tx, table: string, legacyIds: number[]): Promise<void> {
  if (legacyIds.length === 0) return;
  await tx`delete from legacy_import.id_map where legacy_table = ${table} and legacy_id = any(${legacyIds}::bigint[])`;
}

/** Records that the targets now hold this content of the legacy file. */
export async function markSynced(tx: Tx, fingerprint: string): Promise<void> {
  await tx`update legacy_import.run set synced_fingerprint = ${fingerprint}, synced_at = now()`;
}

/**
 * Monthly partitions for the months legacy rows fall in, named and bounded exactly as the services'
 * own partition maintenance does (packages/db), so the two never overlap.
 */
export async function ensurePartitions(
  sql: Sql | Tx,
  schema: string,
  table: string,
  months: Iterable<number>,
): Promise<void> {
  const existing = new Set(
    (
      await sql<{ name: string }[]>`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      join pg_class p on p.oid = i.inhparent join pg_namespace n on n.oid = p.relnamespace
      where n.nspname = ${schema} and p.relname = ${table}`
    ).map((r) => r.name),
  );
  for (const monthMs of months) {
    const month = new Date(monthMs);
    const name = partitionName(table, month);
    if (existing.has(name)) continue;
    const upper = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
    await sql.unsafe(
      `create table if not exists "${schema}"."${name}" partition of "${schema}"."${table}" for values from ('${month.toISOString()}') to ('${upper.toISOString()}')`,
    );
  }
}

export const monthOf = (at: Date) => Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1);

export async function isSuperuser(sql: Sql): Promise<boolean> {
  const [row] = await sql<{ s: boolean }[]>`select rolsuper as s from pg_roles where rolname = current_user`;
  return row?.s === true;
}

/** For this transaction only: foreign-key triggers do not fire (needs a superuser). */
export async function skipReferenceChecks(tx: Tx): Promise<void> {
  await tx`set local session_replication_role = replica`;
}

/**
 * Secondary indexes (not unique, not behind a constraint) of the bulk-loaded tables are dropped for
 * the load and built again after it: one sort per index instead of millions of tree inserts. Each
 * definition is kept in the same transaction as its drop, so a killed import still knows what to
 * rebuild; unique indexes and primary keys stay, they guard the data.
 */
export async function deferIndexes(tx: Tx, tables: string[]): Promise<string[]> {
  const indexes = await tx<{ name: string; definition: string }[]>`
    select quote_ident(n.nspname) || '.' || quote_ident(c.relname) as name, pg_get_indexdef(i.indexrelid) as definition
    from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
    where i.indrelid = any(${tables}::regclass[]) and not i.indisunique and not i.indisprimary
      and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)`;
  for (const index of indexes) {
    await tx`insert into legacy_import.deferred_index (name, definition) values (${index.name}, ${index.definition})`;
    await tx.unsafe(`drop index ${index.name}`);
  }
  return [...indexes.map((i) => i.name), ...(await deferIdMapKey(tx))];
}

/**
 * The id map's key is only a guard (each chunk's rows commit once, with its "done" mark), yet kept
 * during the load it costs a tree insert per mapped row; it is added back after the load, kept in
 * `deferred_index` like the secondary indexes so a killed import still adds it.
 */
async function deferIdMapKey(tx: Tx): Promise<string[]> {
  const [key] = await tx<{ name: string }[]>`
    select conname as name from pg_constraint where conrelid = 'legacy_import.id_map'::regclass and contype = 'p'`;
  if (!key) return [];
  await tx`insert into legacy_import.deferred_index (name, definition)
    values ('legacy_import.id_map_pkey', 'ALTER TABLE legacy_import.id_map ADD PRIMARY KEY (legacy_table, legacy_id)')`;
  await tx.unsafe(`alter table legacy_import.id_map drop constraint ${key.name}`);
  return ['legacy_import.id_map_pkey'];
}

/** Builds the deferred indexes again, each with its bookkeeping row in one transaction (resumable). */
export async function rebuildDeferredIndexes(sql: Sql): Promise<number> {
  const deferred = await sql<{ name: string; definition: string }[]>`
    select name, definition from legacy_import.deferred_index order by name`;
  // In parallel over the pool: each build is one sort, and they share no lock but the table's.
  await Promise.all(
    deferred.map((index) =>
      sql.begin(async (tx) => {
        // pg_get_indexdef says ON ONLY for a partitioned parent; built without ONLY it reaches every partition.
        // Each definition runs in the transaction that deletes its row, so it never runs twice.
        await tx.unsafe(
          index.definition.replace(/^CREATE INDEX /, 'CREATE INDEX IF NOT EXISTS ').replace(' ON ONLY ', ' ON '),
        );
        await tx`delete from legacy_import.deferred_index where name = ${index.name}`;
      }),
    ),
  );
  return deferred.length;
}

/**
 * The counters and rollups of orders and inventory from the imported rows: the load skipped their
 * triggers (session_replication_role = replica), so they are recomputed set-based once at the end.
 */
export async function rebuildImportedAggregates(tx: Tx, service: 'orders' | 'inventory'): Promise<void> {
  if (service === 'orders') await tx`select orders.aggregates_rebuild()`;
  else await tx`select inventory.movement_counts_rebuild()`;
}
