import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { openSqlite, sqliteCode, type SqliteDatabase } from './sqlite.js';
import { CliError, misuse } from '../errors.js';

/** The tables and columns of schema.sql: a file without them is not a legacy store. */
export type LegacyTable = 'users' | 'products' | 'customers' | 'orders' | 'order_items' | 'inventory_log';
export const LEGACY_COLUMNS: Record<LegacyTable, string[]> = {
  users: ['id', 'username', 'email', 'password_hash', 'role', 'is_active', 'created_at'],
  products: [
    'id',
    'sku',
    'name',
    'category',
    'description',
    'price',
    'cost',
    'stock',
    'reorder_level',
    'created_at',
    'updated_at',
  ],
  customers: ['id', 'name', 'phone', 'email', 'address', 'created_at'],
  orders: ['id', 'customer_id', 'status', 'total', 'created_by', 'created_at', 'updated_at'],
  order_items: ['id', 'order_id', 'product_id', 'quantity', 'unit_price'],
  inventory_log: ['id', 'product_id', 'change', 'reason', 'ref_order_id', 'note', 'created_at'],
};
export const LEGACY_TABLES = Object.keys(LEGACY_COLUMNS) as LegacyTable[];

/**
 * Opens a legacy file read-only and proves it is an SQLite database that can be read: it exists, is
 * SQLite, and no writer holds it. Each failure is one sentence for the operator. Its shape is checked
 * by the snapshot taken from it (snapshot.ts).
 */
export function openLegacy(file: string): SqliteDatabase {
  if (!existsSync(file)) throw misuse(`${file}: no such file`);
  if (!statSync(file).isFile()) throw misuse(`${file}: not a file`);
  const header = Buffer.alloc(16);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1') !== 'SQLite format 3\u0000') throw misuse(`${file}: not an SQLite database`);
  let db: SqliteDatabase;
  try {
    db = openSqlite(file, { readOnly: true, timeout: 2000 });
  } catch (error) {
    throw misuse(`${file}: cannot open as SQLite (${(error as Error).message})`);
  }
  try {
    // A writer holding the file (in the middle of a long transaction) makes this fail after the timeout.
    db.prepare('select count(*) from sqlite_master').get();
  } catch (error) {
    db.close();
    const code = sqliteCode(error);
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new CliError(`${file}: locked by another process (stop the legacy application and retry)`);
    }
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
      throw misuse(`${file}: not a readable SQLite database (${code})`);
    throw error;
  }
  return db;
}

export function legacyCounts(db: SqliteDatabase): Record<LegacyTable, number> {
  return Object.fromEntries(
    LEGACY_TABLES.map((t) => [t, (db.prepare(`select count(*) as n from ${t}`).get() as { n: number }).n]),
  ) as Record<LegacyTable, number>;
}
