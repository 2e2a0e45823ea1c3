import { sql } from 'drizzle-orm';
import { rowsOf, type Database, type PartitionedTable } from '@stockgraph/db';

/**
 * The life of a monthly partition after it stops being written: archived (detached from the live
 * table and attached to a partitioned parent of the same shape in `<schema>_archive`, so live queries
 * no longer scan it but a query that asks for the archive still prunes by month), exported, dropped.
 *
 * A subgraph's `partitionedTables` list referenced tables before the tables that reference them
 * (orders before order_items): detaching runs in reverse order, attaching in list order.
 */
type Db = Database<Record<string, unknown>>;

const IDENT = /^[a-z_][a-z0-9_]*$/;
const MONTH_SUFFIX = /_(\d{4})_(\d{2})$/;

function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`invalid identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

const qualified = (schema: string, table: string) => `${ident(schema)}.${ident(table)}`;

/** A refusal an operator can act on (the message says what to do), as opposed to a bug. */
export class PartitionLifecycleError extends Error {
  override name = 'PartitionLifecycleError';
}

export const archiveSchemaOf = (schema: string) => `${schema}_archive`;

export interface MonthlyPartition {
  /** The table's partition (e.g. `orders_2024_01`), in the live or archive schema. */
  name: string;
  table: string;
  /** First day of the month, UTC. */
  month: Date;
  /** `FOR VALUES FROM (…) TO (…)`, as Postgres prints it: reused verbatim to attach elsewhere. */
  bound: string;
}

/** Monthly partitions of `schema.table`, named `<table>_YYYY_MM` as ensureMonthlyPartitions makes them. */
export async function monthlyPartitions(db: Db, schema: string, table: string): Promise<MonthlyPartition[]> {
  const rows = rowsOf<{ name: string; bound: string }>(
    await db.execute(sql`
      select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
      from pg_inherits i
      join pg_class c on c.oid = i.inhrelid
      join pg_class p on p.oid = i.inhparent
      join pg_namespace n on n.oid = p.relnamespace
      where n.nspname = ${schema} and p.relname = ${table}
      order by c.relname`),
  );
  return rows.flatMap((r) => {
    const m = MONTH_SUFFIX.exec(r.name);
    if (!m || r.name !== `${table}_${m[1]}_${m[2]}`) return [];
    return [{ name: r.name, table, bound: r.bound, month: new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)) }];
  });
}

/** The first instant that is not "wholly older than `months` months": the start of this month minus `months`. */
export function retentionCutoff(months: number, now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - months, 1));
}

const monthKey = (d: Date) => d.toISOString().slice(0, 7);

/** Live monthly partitions whose month ends on or before `cutoff`, grouped by month across the tables. */
export async function partitionsToArchive(db: Db, tables: PartitionedTable[], cutoff: Date) {
  const byMonth = new Map<string, MonthlyPartition[]>();
  for (const t of tables) {
    for (const p of await monthlyPartitions(db, t.schema, t.table)) {
      const end = new Date(Date.UTC(p.month.getUTCFullYear(), p.month.getUTCMonth() + 1, 1));
      if (end > cutoff) continue;
      byMonth.set(monthKey(p.month), [...(byMonth.get(monthKey(p.month)) ?? []), p]);
    }
  }
  return [...byMonth.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([month, parts]) => ({ month, parts }));
}

/**
 * The archive belongs to whoever owns the live schema (the service's role, ops/src/roles.ts), so the
 * service can read it even when an administrator ran the command.
 */
async function ownLikeLive(db: Db, schema: string, object: string): Promise<void> {
  const [row] = rowsOf<{ owner: string }>(
    await db.execute(sql`select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = ${schema}`),
  );
  if (row) await db.execute(sql.raw(`alter ${object} owner to "${row.owner.replace(/"/g, '""')}"`));
}

async function exists(db: Db, schema: string, table: string): Promise<boolean> {
  const [row] = rowsOf<{ t: string | null }>(
    await db.execute(sql`select to_regclass(${qualified(schema, table)})::text as t`),
  );
  return Boolean(row?.t);
}

/**
 * Creates `<schema>_archive` and an empty partitioned parent per table, shaped like the live one at
 * this moment (columns, defaults, checks, indexes and the foreign keys between the group's tables).
 */
async function ensureArchiveParents(db: Db, tables: PartitionedTable[]): Promise<void> {
  const schema = tables[0]!.schema;
  const archive = archiveSchemaOf(schema);
  await db.execute(sql.raw(`create schema if not exists ${ident(archive)}`));
  await ownLikeLive(db, schema, `schema ${ident(archive)}`);
  for (const t of tables) {
    if (await exists(db, archive, t.table)) continue;
    const [key] = rowsOf<{ key: string }>(
      await db.execute(sql`select pg_get_partkeydef(to_regclass(${qualified(t.schema, t.table)})) as key`),
    );
    await db.execute(
      sql.raw(
        `create table ${qualified(archive, t.table)} (like ${qualified(t.schema, t.table)} ` +
          `including defaults including constraints including indexes) partition by ${key!.key}`,
      ),
    );
    await ownLikeLive(db, schema, `table ${qualified(archive, t.table)}`);
    const foreignKeys = rowsOf<{ name: string; def: string; target: string }>(
      await db.execute(sql`
        select c.conname as name, pg_get_constraintdef(c.oid) as def, r.relname as target
        from pg_constraint c join pg_class r on r.oid = c.confrelid join pg_namespace n on n.oid = r.relnamespace
        where c.conrelid = to_regclass(${qualified(t.schema, t.table)}) and c.contype = 'f' and n.nspname = ${schema}`),
    );
    for (const fk of foreignKeys) {
      if (!tables.some((o) => o.table === fk.target)) continue;
      const def = fk.def.replace(
        /REFERENCES\s+("?[a-z_0-9]+"?\.)?"?([a-z_0-9]+)"?\(/,
        `REFERENCES ${ident(archive)}."$2"(`,
      );
      await db.execute(sql.raw(`alter table ${qualified(archive, t.table)} add constraint ${ident(fk.name)} ${def}`));
    }
  }
}

async function dropForeignKeys(db: Db, schema: string, table: string): Promise<void> {
  const names = rowsOf<{ name: string }>(
    await db.execute(
      sql`select conname as name from pg_constraint where conrelid = to_regclass(${qualified(schema, table)}) and contype = 'f' and conparentid = 0`,
    ),
  );
  for (const { name } of names)
    await db.execute(sql.raw(`alter table ${qualified(schema, table)} drop constraint ${ident(name)}`));
}

/**
 * ATTACH scans the whole partition to prove its rows fit the bound unless a valid CHECK constraint
 * already implies it, and the archive transaction holds the live parents' ACCESS EXCLUSIVE lock until
 * it commits. So the proof is made beforehand, while the partition is still live: NOT VALID then
 * VALIDATE, which locks only the partition and lets reads and writes go on.
 */
async function proveBound(db: Db, schema: string, p: MonthlyPartition): Promise<void> {
  const name = `${p.name}_month_bound`;
  const [present] = rowsOf<{ n: string | number }>(
    await db.execute(
      sql`select count(*) as n from pg_constraint where conrelid = to_regclass(${qualified(schema, p.name)}) and conname = ${name}`,
    ),
  );
  if (Number(present?.n ?? 0) > 0) return;
  const upper = new Date(Date.UTC(p.month.getUTCFullYear(), p.month.getUTCMonth() + 1, 1));
  await db.execute(
    sql.raw(
      `alter table ${qualified(schema, p.name)} add constraint ${ident(name)} check (created_at is not null and ` +
        `created_at >= '${p.month.toISOString()}' and created_at < '${upper.toISOString()}') not valid`,
    ),
  );
  await db.execute(sql.raw(`alter table ${qualified(schema, p.name)} validate constraint ${ident(name)}`));
}

/**
 * Moves one month of a table group into the archive in one transaction: detach (referencing tables
 * first, their foreign keys to the live parent dropped), move to the archive schema, attach to the
 * archive parents (referenced tables first, so the archive's foreign keys validate), then `afterArchive`
 * with each table's archived partition (e.g. orders takes the month out of its live aggregates), so
 * no reader sees the month gone from the live tables but still in what describes them.
 */
export async function archiveMonth(
  db: Db,
  tables: PartitionedTable[],
  parts: MonthlyPartition[],
  afterArchive?: (tx: Db, parts: Map<string, string>) => Promise<void>,
): Promise<void> {
  const schema = tables[0]!.schema;
  const archive = archiveSchemaOf(schema);
  const ordered = tables.flatMap((t) => parts.filter((p) => p.table === t.table).map((p) => ({ t, p })));
  for (const { p } of ordered) await proveBound(db, schema, p);
  await db.transaction(async (tx) => {
    await ensureArchiveParents(tx, tables);
    for (const { t, p } of [...ordered].reverse()) {
      await tx.execute(
        sql.raw(`alter table ${qualified(t.schema, t.table)} detach partition ${qualified(schema, p.name)}`),
      );
      await dropForeignKeys(tx, schema, p.name);
      await tx.execute(sql.raw(`alter table ${qualified(schema, p.name)} set schema ${ident(archive)}`));
    }
    for (const { t, p } of ordered) {
      await tx.execute(
        sql.raw(`alter table ${qualified(archive, t.table)} attach partition ${qualified(archive, p.name)} ${p.bound}`),
      );
    }
    await afterArchive?.(tx, new Map(ordered.map(({ t, p }) => [t.table, qualified(archive, p.name)])));
  });
}

/** Archived monthly partitions of the group, oldest first, with exact row counts. */
export async function archivedPartitions(db: Db, tables: PartitionedTable[]) {
  const result: (MonthlyPartition & { schema: string; rows: number })[] = [];
  for (const t of tables) {
    const archive = archiveSchemaOf(t.schema);
    if (!(await exists(db, archive, t.table))) continue;
    for (const p of await monthlyPartitions(db, archive, t.table)) {
      const [row] = rowsOf<{ n: string | number }>(
        await db.execute(sql.raw(`select count(*) as n from ${qualified(archive, p.name)}`)),
      );
      result.push({ ...p, schema: archive, rows: Number(row?.n ?? 0) });
    }
  }
  return result.sort((a, b) => a.month.getTime() - b.month.getTime() || a.name.localeCompare(b.name));
}

export interface ExportRecord {
  partition: string;
  file: string;
  rows: number;
  sha256: string;
  exportedAt: string;
}

async function ensureExportLog(db: Db, archive: string): Promise<void> {
  await db.execute(sql.raw(`create schema if not exists ${ident(archive)}`));
  await db.execute(
    sql.raw(
      `create table if not exists ${qualified(archive, 'partition_exports')} (` +
        'partition text primary key, file text not null, rows bigint not null, sha256 text not null, ' +
        'exported_at timestamptz not null default now(), dropped_at timestamptz)',
    ),
  );
  await ownLikeLive(db, archive.replace(/_archive$/, ''), `table ${qualified(archive, 'partition_exports')}`);
}

/** Where each archived partition of `schema` was last exported, so `drop` can find and verify it. */
export async function exportRecords(
  db: Db,
  schema: string,
): Promise<Map<string, ExportRecord & { droppedAt: string | null }>> {
  const archive = archiveSchemaOf(schema);
  if (!(await exists(db, archive, 'partition_exports'))) return new Map();
  const rows = rowsOf<{
    partition: string;
    file: string;
    rows: string | number;
    sha256: string;
    exported_at: string | Date;
    dropped_at: string | Date | null;
  }>(await db.execute(sql.raw(`select * from ${qualified(archive, 'partition_exports')}`)));
  return new Map(
    rows.map((r) => [
      r.partition,
      {
        partition: r.partition,
        file: r.file,
        rows: Number(r.rows),
        sha256: r.sha256,
        exportedAt: new Date(r.exported_at).toISOString(),
        droppedAt: r.dropped_at ? new Date(r.dropped_at).toISOString() : null,
      },
    ]),
  );
}

export async function recordExport(db: Db, schema: string, record: ExportRecord): Promise<void> {
  const archive = archiveSchemaOf(schema);
  await ensureExportLog(db, archive);
  await db.execute(sql`
    insert into ${sql.raw(qualified(archive, 'partition_exports'))} (partition, file, rows, sha256, exported_at)
    values (${record.partition}, ${record.file}, ${record.rows}, ${record.sha256}, ${record.exportedAt}::timestamptz)
    on conflict (partition) do update set file = excluded.file, rows = excluded.rows, sha256 = excluded.sha256,
      exported_at = excluded.exported_at, dropped_at = null`);
}

/**
 * Drops one archived month of a group in one transaction: `beforeDrop` first, then the tables that
 * reference others, then the rest. (Orders' aggregates need nothing here: they forgot the month when
 * it was archived.)
 */
export async function dropArchivedMonth(
  db: Db,
  tables: PartitionedTable[],
  parts: MonthlyPartition[],
  beforeDrop?: (tx: Db, parts: Map<string, string>) => Promise<void>,
): Promise<void> {
  const archive = archiveSchemaOf(tables[0]!.schema);
  const byTable = new Map(parts.map((p) => [p.table, qualified(archive, p.name)]));
  await db.transaction(async (tx) => {
    await beforeDrop?.(tx, byTable);
    for (const t of [...tables].reverse()) {
      const p = parts.find((x) => x.table === t.table);
      if (!p) continue;
      // Detached first: the archive's foreign key between the parents depends on each referenced partition.
      await tx.execute(
        sql.raw(`alter table ${qualified(archive, t.table)} detach partition ${qualified(archive, p.name)}`),
      );
      await tx.execute(sql.raw(`drop table ${qualified(archive, p.name)}`));
      await tx.execute(sql`
        update ${sql.raw(qualified(archive, 'partition_exports'))} set dropped_at = now() where partition = ${p.name}`);
    }
  });
}

/** Creates the month's partition of a live table inside the caller's transaction, if it is missing. */
async function createMonth(db: Db, t: PartitionedTable, month: Date): Promise<void> {
  const name = `${t.table}_${month.getUTCFullYear()}_${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
  if (await exists(db, t.schema, name)) return;
  // A live partition beside the archived one would make the month unreachable by archive reads and
  // the next archive run fail; that month's stray rows need a decision, not a silent split.
  if (await exists(db, archiveSchemaOf(t.schema), name))
    throw new PartitionLifecycleError(
      `${t.schema}.${t.table}: DEFAULT holds rows of ${name.slice(-7).replace('_', '-')}, a month already archived ` +
        `(${archiveSchemaOf(t.schema)}.${name}); nothing was moved`,
    );
  const upper = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
  await db.execute(
    sql.raw(
      `create table ${qualified(t.schema, name)} partition of ${qualified(t.schema, t.table)} ` +
        `for values from ('${month.toISOString()}') to ('${upper.toISOString()}')`,
    ),
  );
}

export interface MoveDefaultResult {
  table: string;
  before: number;
  moved: number;
  leftInDefault: number;
  months: string[];
}

/**
 * Moves every row of the group's DEFAULT partitions into monthly partitions, in one transaction:
 * all rows are copied aside first (deleting an order from DEFAULT cascades to its items), DEFAULT is
 * emptied (referencing tables first), the months are created (Postgres refuses while DEFAULT holds
 * rows of that month), and the copies go back through the parents. Counts are checked before commit.
 */
export async function moveDefaultRows(db: Db, tables: PartitionedTable[]): Promise<MoveDefaultResult[]> {
  return db.transaction(async (tx) => {
    const counts = new Map<string, number>();
    const months = new Set<string>();
    for (const [i, t] of tables.entries()) {
      const stash = `move_default_${i}`;
      await tx.execute(
        sql.raw(
          `create temp table ${stash} on commit drop as select * from ${qualified(t.schema, `${t.table}_default`)}`,
        ),
      );
      const [row] = rowsOf<{ n: string | number }>(await tx.execute(sql.raw(`select count(*) as n from ${stash}`)));
      counts.set(t.table, Number(row?.n ?? 0));
      for (const m of rowsOf<{ m: string }>(
        await tx.execute(
          sql.raw(`select distinct to_char(created_at at time zone 'UTC', 'YYYY-MM') as m from ${stash}`),
        ),
      ))
        months.add(m.m);
    }
    for (const t of [...tables].reverse())
      await tx.execute(sql.raw(`delete from ${qualified(t.schema, `${t.table}_default`)}`));
    const sortedMonths = [...months].sort();
    for (const t of tables) for (const m of sortedMonths) await createMonth(tx, t, new Date(`${m}-01T00:00:00Z`));
    const results: MoveDefaultResult[] = [];
    for (const [i, t] of tables.entries()) {
      await tx.execute(sql.raw(`insert into ${qualified(t.schema, t.table)} select * from move_default_${i}`));
      // Every stashed row is back, whole, and none of it in DEFAULT: anything else rolls the move back.
      const [check] = rowsOf<{ back: string | number; left: string | number }>(
        await tx.execute(
          sql.raw(
            `select (select count(*) from (select * from ${qualified(t.schema, t.table)} ` +
              `where created_at between (select min(created_at) from move_default_${i}) ` +
              `and (select max(created_at) from move_default_${i}) ` +
              `intersect all select * from move_default_${i}) s) as back, ` +
              `(select count(*) from ${qualified(t.schema, `${t.table}_default`)}) as left`,
          ),
        ),
      );
      const before = counts.get(t.table) ?? 0;
      const moved = Number(check?.back ?? 0);
      const left = Number(check?.left ?? 0);
      if (moved !== before || left !== 0)
        throw new PartitionLifecycleError(
          `${t.schema}.${t.table}: ${before} row(s) in DEFAULT, ${moved} found back, ${left} still in DEFAULT`,
        );
      results.push({ table: `${t.schema}.${t.table}`, before, moved, leftInDefault: left, months: sortedMonths });
    }
    return results;
  });
}
