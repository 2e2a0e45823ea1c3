import { createHash } from 'node:crypto';
import { createWriteStream, writeFileSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import type { Database } from '@stockgraph/db';

export interface Copied {
  rows: number;
  sha256: string;
  bytes: number;
}

const NEWLINE = 0x0a;

/** COPY's text format escapes newlines inside values, so rows are the file's line count. */
function counter(totals: { rows: number; bytes: number; hash: ReturnType<typeof createHash> }) {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      totals.bytes += chunk.length;
      totals.hash.update(chunk);
      for (const byte of chunk) if (byte === NEWLINE) totals.rows += 1;
      done(null, chunk);
    },
  });
}

/**
 * `COPY <table> TO STDOUT` (text format, loadable again with `COPY … FROM`) into `file`, streamed on
 * Postgres; PGlite hands the whole copy back as one blob.
 */
export async function copyTableOut(
  target: { url?: string | undefined; pglite?: PGlite | undefined },
  qualifiedTable: string,
  file: string,
): Promise<Copied> {
  const totals = { rows: 0, bytes: 0, hash: createHash('sha256') };
  if (target.url) {
    const client = postgres(target.url, { max: 1, onnotice: () => {} });
    try {
      const readable = await client.unsafe(`copy ${qualifiedTable} to stdout`).readable();
      await pipeline(readable, counter(totals), createWriteStream(file));
    } finally {
      await client.end();
    }
  } else {
    const result = await target.pglite!.query(`copy ${qualifiedTable} to '/dev/blob'`);
    const data = Buffer.from(await (result.blob ?? new Blob([])).arrayBuffer());
    totals.bytes = data.length;
    totals.hash.update(data);
    for (const byte of data) if (byte === NEWLINE) totals.rows += 1;
    writeFileSync(file, data);
  }
  return { rows: totals.rows, bytes: totals.bytes, sha256: totals.hash.digest('hex') };
}

/**
 * Orders' counters and rollups describe the live tables only: an archived month leaves them in the
 * same transaction that detaches it (aggregates_forget, orders migration 0006), so the live lists'
 * totalCount and the statistics never count rows those lists can no longer return.
 */
export const afterArchive: Record<
  string,
  (tx: Database<Record<string, unknown>>, parts: Map<string, string>) => Promise<void>
> = {
  orders: async (tx, parts) => {
    const orders = parts.get('orders');
    const items = parts.get('order_items');
    if (!orders || !items) throw new Error('an orders month is archived with its items, both or neither');
    await tx.execute(sql`select orders.aggregates_forget(${orders}::regclass, ${items}::regclass)`);
  },
};
