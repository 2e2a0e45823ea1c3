/**
 * The legacy file as the importer reads it: a private, consistent copy taken with `VACUUM INTO` (one
 * read transaction, so a file the old application is still writing is read as of one moment, and the
 * writer is held up only for the copy), proved to be a legacy store, with what SQLite's loose typing
 * let in made explicit before any row is planned.
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, misuse } from '../errors.js';
import { LEGACY_COLUMNS, LEGACY_TABLES, openLegacy, type LegacyTable } from './reader.js';
import { openSqlite, sqliteCode, type SqliteDatabase } from './sqlite.js';

/** Tables a legacy store may lack (a shop without staff accounts or a stock log): read as empty. */
export const OPTIONAL_TABLES: readonly LegacyTable[] = ['users', 'inventory_log'];

/** Empty stand-ins for missing optional tables, as schema.sql declares them. */
const OPTIONAL_DDL: Partial<Record<LegacyTable, string>> = {
  users: `create table users (id integer primary key autoincrement, username text not null unique, email text,
    password_hash text not null, role text not null, is_active integer not null default 1, created_at text not null)`,
  inventory_log: `create table inventory_log (id integer primary key autoincrement, product_id integer not null,
    change integer not null, reason text not null, ref_order_id integer, note text, created_at text not null)`,
};

type Kind = 'integer' | 'real' | 'text';
/** What each legacy column holds; `id` columns are SQLite row ids, always integers. */
const KINDS: Record<LegacyTable, Record<string, Kind>> = {
  users: {
    username: 'text',
    email: 'text',
    password_hash: 'text',
    role: 'text',
    is_active: 'integer',
    created_at: 'text',
  },
  products: {
    sku: 'text',
    name: 'text',
    category: 'text',
    description: 'text',
    price: 'real',
    cost: 'real',
    stock: 'integer',
    reorder_level: 'integer',
    created_at: 'text',
    updated_at: 'text',
  },
  customers: { name: 'text', phone: 'text', email: 'text', address: 'text', created_at: 'text' },
  orders: {
    customer_id: 'integer',
    status: 'text',
    total: 'real',
    created_by: 'integer',
    created_at: 'text',
    updated_at: 'text',
  },
  order_items: { order_id: 'integer', product_id: 'integer', quantity: 'integer', unit_price: 'real' },
  inventory_log: {
    product_id: 'integer',
    change: 'integer',
    reason: 'text',
    ref_order_id: 'integer',
    note: 'text',
    created_at: 'text',
  },
};

/** A row the snapshot cannot hand on as a value of its column's kind: the planner quarantines it. */
export interface UnreadableRow {
  table: LegacyTable;
  id: number;
  reason: string;
}

/** A value made readable in the copy (the row is imported with it and listed). */
export interface RewrittenValue {
  table: LegacyTable;
  id: number;
  note: string;
}

export interface LegacySnapshot {
  db: SqliteDatabase;
  /** The legacy file as given. */
  file: string;
  /** SHA-256 of the copy as taken: the same content gives the same copy, so a resumed run knows its file. */
  fingerprint: string;
  /** What the operator should know about the file's shape: missing optional tables, unknown columns. */
  notes: string[];
  unreadable: UnreadableRow[];
  rewritten: RewrittenValue[];
  /** Seconds taken to copy, fingerprint and check the file: the first phase of every run on it. */
  seconds: number;
  /** Closes the copy and deletes it. */
  close(): void;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The legacy file's shape problems, or null when it is a legacy store (optional tables may be missing). */
function checkShape(db: SqliteDatabase, file: string): { missing: LegacyTable[]; notes: string[] } {
  const objects = new Map(
    (
      db.prepare(`select name, type from sqlite_master where type in ('table', 'view')`).all() as {
        name: string;
        type: string;
      }[]
    ).map((o) => [o.name, o.type]),
  );
  const found = LEGACY_TABLES.filter((t) => objects.has(t));
  if (found.length === 0) {
    const theirs = [...objects.keys()].filter((n) => !n.startsWith('sqlite_')).slice(0, 8);
    throw misuse(
      `${file}: not a legacy store: none of its tables (${LEGACY_TABLES.join(', ')}) is there` +
        (theirs.length ? `; it holds ${theirs.join(', ')}` : '; it holds no tables'),
    );
  }
  const problems: string[] = [];
  const notes: string[] = [];
  const missing: LegacyTable[] = [];
  for (const table of LEGACY_TABLES) {
    const type = objects.get(table);
    if (type === 'view') problems.push(`${table} is a view, not a table`);
    else if (!type) {
      if (OPTIONAL_TABLES.includes(table)) {
        missing.push(table);
        notes.push(`table ${table} is absent: read as empty`);
      } else problems.push(`table ${table} is missing`);
    } else {
      const present = (db.prepare(`select name from pragma_table_info(?)`).all(table) as { name: string }[]).map(
        (c) => c.name,
      );
      for (const c of LEGACY_COLUMNS[table]) if (!present.includes(c)) problems.push(`${table}.${c} is missing`);
      const extra = present.filter((c) => !LEGACY_COLUMNS[table].includes(c));
      if (extra.length > 0)
        notes.push(`${table} has columns the legacy schema does not (${extra.join(', ')}): not imported`);
    }
  }
  if (problems.length > 0) throw misuse(`${file}: not the legacy schema (${problems.join('; ')})`);
  return { missing, notes };
}

/**
 * SQLite keeps any value in any column. What the legacy application could not have meant is settled
 * here, in the copy: numbers in text columns become their text, NUL characters (which PostgreSQL text
 * cannot hold) become U+FFFD and binary values their hex, each listed; a number column holding text,
 * a binary value or (for a whole-number column) a fraction makes its row unreadable, and the planner
 * quarantines it with that reason.
 */
function settleValues(db: SqliteDatabase): { unreadable: UnreadableRow[]; rewritten: RewrittenValue[] } {
  const unreadable: UnreadableRow[] = [];
  const rewritten: RewrittenValue[] = [];
  // SQLite's text functions stop at a NUL; its bytes show it (instr over the value as a blob).
  const oddText = (c: string) =>
    `typeof(${c}) in ('integer', 'real', 'blob') or (typeof(${c}) = 'text' and instr(cast(${c} as blob), x'00') > 0)`;
  const wrongNumber = (c: string, kind: Kind) =>
    kind === 'integer'
      ? `typeof(${c}) in ('text', 'blob') or (typeof(${c}) = 'real' and ${c} <> cast(${c} as integer))`
      : `typeof(${c}) in ('text', 'blob')`;
  for (const table of LEGACY_TABLES) {
    const columns = Object.entries(KINDS[table]);
    // One scan per table finds whether any column needs a look (almost never); only then one per column.
    const any = columns.map(
      ([column, kind]) => `(${kind === 'text' ? oddText(quote(column)) : wrongNumber(quote(column), kind)})`,
    );
    if (!db.prepare(`select exists (select 1 from ${table} where ${any.join(' or ')}) as found`).get()!.found) continue;
    for (const [column, kind] of columns) {
      const c = quote(column);
      if (kind === 'text') {
        const odd = db
          .prepare(`select id, typeof(${c}) as type, ${c} as value from ${table} where ${oddText(c)}`)
          .all() as { id: number; type: string; value: string | number | Uint8Array }[];
        const update = db.prepare(`update ${table} set ${c} = ? where id = ?`);
        for (const row of odd) {
          const [value, note] =
            row.type === 'blob'
              ? [
                  Buffer.from(row.value as Uint8Array).toString('hex'),
                  `${column} held binary data: imported as its hexadecimal text`,
                ]
              : row.type === 'text'
                ? [
                    String(row.value).replaceAll('\0', '\uFFFD'),
                    `${column} held NUL characters: each imported as U+FFFD`,
                  ]
                : [String(row.value), `${column} held a number: imported as its text`];
          update.run(value, row.id);
          rewritten.push({ table, id: Number(row.id), note });
        }
      } else {
        const wrong = wrongNumber(c, kind);
        const rows = db
          .prepare(
            `select id, typeof(${c}) as type, case typeof(${c}) when 'real' then quote(${c}) else quote(substr(${c}, 1, 40)) end as value from ${table} where ${wrong}`,
          )
          .all() as { id: number; type: string; value: string }[];
        for (const row of rows) {
          const what =
            row.type === 'blob'
              ? 'binary data'
              : row.type === 'real'
                ? `a fraction (${row.value})`
                : `text ${row.value}`;
          unreadable.push({
            table,
            id: Number(row.id),
            reason: `${column} holds ${what}, not ${kind === 'integer' ? 'a whole number' : 'a number'}`,
          });
        }
        // The value stays as it is: the row is quarantined, and no plan or check reads it.
      }
    }
  }
  return { unreadable, rewritten };
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Takes the consistent copy of a legacy file and proves it is a legacy store. */
export async function snapshotLegacy(file: string): Promise<LegacySnapshot> {
  const started = performance.now();
  const source = openLegacy(file);
  const dir = mkdtempSync(join(tmpdir(), 'stockgraph-legacy-'));
  const copy = join(dir, 'snapshot.sqlite');
  let db: SqliteDatabase | undefined;
  try {
    const { missing, notes } = checkShape(source, file);
    try {
      source.exec(`vacuum into '${copy.replace(/'/g, "''")}'`);
    } catch (error) {
      const code = sqliteCode(error);
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
        throw new CliError(
          `${file}: locked by another process (a writer held it throughout; retry, or stop the legacy application)`,
        );
      if (code === 'SQLITE_FULL')
        throw new CliError(`${file}: no room for its copy in ${tmpdir()} (set TMPDIR to a larger disk)`);
      throw error;
    }
    source.close();
    const fingerprint = await sha256(copy);
    db = openSqlite(copy);
    // The copy is ours and thrown away: no journal, no waiting for the disk.
    db.exec('pragma journal_mode = off; pragma synchronous = off');
    for (const table of missing) db.exec(OPTIONAL_DDL[table]!);
    const settled = settleValues(db);
    const opened = db;
    return {
      db: opened,
      file,
      fingerprint,
      notes,
      ...settled,
      seconds: Math.round(performance.now() - started) / 1000,
      close: () => {
        if (opened.isOpen) opened.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (source.isOpen) source.close();
    if (db?.isOpen) db.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
