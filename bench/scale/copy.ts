import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import postgres from 'postgres';

/** One table's load: rows sent, and the wall time from the COPY's start to its commit. */
export interface LoadStat {
  table: string;
  rows: number;
  seconds: number;
}

/**
 * A `COPY … FROM STDIN` (text format) on a connection of its own with triggers and foreign-key checks
 * off (`session_replication_role = replica`): the bulk path the bench loads history through. Rows
 * are tab-separated lines; the generator never produces tabs, newlines or backslashes in values.
 */
export async function openCopy(url: string, table: string, columns: readonly string[]) {
  const sql = postgres(url, {
    max: 1,
    onnotice: () => {},
    connection: { session_replication_role: 'replica', synchronous_commit: 'off' },
  });
  const started = performance.now();
  const stream = await sql.unsafe(`copy ${table} (${columns.join(', ')}) from stdin`).writable();
  let rows = 0;
  return {
    async write(lines: string[]) {
      if (lines.length === 0) return;
      rows += lines.length;
      if (!stream.write(`${lines.join('\n')}\n`)) await once(stream, 'drain');
    },
    async end(): Promise<LoadStat> {
      stream.end();
      await finished(stream);
      await sql.end();
      return { table, rows, seconds: (performance.now() - started) / 1000 };
    },
    async abort() {
      stream.destroy();
      await sql.end({ timeout: 1 });
    },
  };
}

export type Copy = Awaited<ReturnType<typeof openCopy>>;

/** Loads a small table in one COPY. */
export async function copyRows(url: string, table: string, columns: readonly string[], lines: string[]) {
  const copy = await openCopy(url, table, columns);
  await copy.write(lines);
  return copy.end();
}

/** NULL in COPY's text format. */
export const NULL = '\\N';

/** Integer cents as a numeric literal. */
export function money(cents: number): string {
  const c = Math.round(cents);
  const r = c % 100;
  return `${(c - r) / 100}.${r < 10 ? '0' : ''}${r}`;
}
