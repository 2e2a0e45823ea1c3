/**
 * The legacy store is read through Node's built-in SQLite (`node:sqlite`), so installing the CLI
 * compiles nothing and downloads no binary. These are the two things it lacks next to the driver we
 * used before: a transaction wrapper, and SQLite's primary result code on errors.
 */
import { DatabaseSync, type DatabaseSyncOptions } from 'node:sqlite';

export type SqliteDatabase = DatabaseSync;

export function openSqlite(file: string, options: DatabaseSyncOptions = {}): SqliteDatabase {
  return new DatabaseSync(file, options);
}

/** Runs `body` in one transaction: committed when it returns, rolled back when it throws. */
export function transaction<T>(db: SqliteDatabase, body: () => T): T {
  db.exec('begin');
  try {
    const result = body();
    db.exec('commit');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('rollback');
    throw error;
  }
}

const PRIMARY_CODES: Record<number, string> = {
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  11: 'SQLITE_CORRUPT',
  26: 'SQLITE_NOTADB',
};

/** `SQLITE_BUSY`, `SQLITE_NOTADB`, …: the primary result code of an error `node:sqlite` threw, else ''. */
export function sqliteCode(error: unknown): string {
  const errcode = (error as { errcode?: unknown }).errcode;
  if (typeof errcode !== 'number') return '';
  // Extended result codes carry the primary code in their low byte (SQLITE_BUSY_SNAPSHOT = 5 | 2 << 8).
  return PRIMARY_CODES[errcode & 0xff] ?? `SQLITE_${errcode}`;
}
