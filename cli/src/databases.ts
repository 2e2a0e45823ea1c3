import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { openDatabase, openPglite, type Database } from '@stockgraph/db';
import { createLogger } from '@stockgraph/logger';
import { redactUrl, resolveTargets, type SubgraphName } from './targets.js';

export interface SubgraphDatabase {
  subgraph: SubgraphName;
  /** Where it is, for messages: the URL without its password, or `pglite:<dir>`. */
  database: string;
  db: Database<Record<string, unknown>>;
  /** The connection it came from, for the commands that need the driver itself (COPY). */
  raw: { url?: string | undefined; pglite?: PGlite | undefined };
}

/**
 * Runs `work` on each named subgraph's database in turn, as `db migrate` finds them: its URL, else the
 * embedded PGlite, opened once and shared, because one PGlite directory holds every subgraph's schema.
 */
export async function eachSubgraphDatabase<T>(
  subgraphs: readonly SubgraphName[],
  work: (target: SubgraphDatabase) => Promise<T>,
): Promise<T[]> {
  const targets = resolveTargets();
  const logger = createLogger('stockgraph', 'silent');
  let pglite: PGlite | undefined;
  const results: T[] = [];
  try {
    for (const subgraph of subgraphs) {
      const url = targets.urls[subgraph];
      if (!url && !pglite) {
        mkdirSync(targets.pgliteDir, { recursive: true });
        pglite = await openPglite(targets.pgliteDir);
      }
      const handle = await openDatabase({ url, pglite, schema: {}, logger, poolMax: 1 });
      try {
        const database = url ? redactUrl(url) : `pglite:${targets.pgliteDir}`;
        results.push(await work({ subgraph, database, db: handle.db, raw: { url, pglite } }));
      } finally {
        await handle.close();
      }
    }
  } finally {
    await pglite?.close();
  }
  return results;
}
