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

/** Opens subgraphs' databases as `db migrate` finds them: its URL, else the one embedded PGlite all share. */
class DatabaseOpener {
  readonly #targets = resolveTargets();
  readonly #logger = createLogger('stockgraph', 'silent');
  #pglite: PGlite | undefined;

  async open(subgraph: SubgraphName): Promise<SubgraphDatabase & { close(): Promise<void> }> {
    const url = this.#targets.urls[subgraph];
    if (!url && !this.#pglite) {
      mkdirSync(this.#targets.pgliteDir, { recursive: true });
      this.#pglite = await openPglite(this.#targets.pgliteDir);
    }
    const pglite = this.#pglite;
    const handle = await openDatabase({ url, pglite, schema: {}, logger: this.#logger, poolMax: 1 });
    const database = url ? redactUrl(url) : `pglite:${this.#targets.pgliteDir}`;
    return { subgraph, database, db: handle.db, raw: { url, pglite }, close: () => handle.close() };
  }

  async close(): Promise<void> {
    await this.#pglite?.close();
  }
}

/**
 * Runs `work` on each named subgraph's database in turn, as `db migrate` finds them: its URL, else the
 * embedded PGlite, opened once and shared, because one PGlite directory holds every subgraph's schema.
 */
export async function eachSubgraphDatabase<T>(
  subgraphs: readonly SubgraphName[],
  work: (target: SubgraphDatabase) => Promise<T>,
): Promise<T[]> {
  const opener = new DatabaseOpener();
  const results: T[] = [];
  try {
    for (const subgraph of subgraphs) {
      const target = await opener.open(subgraph);
      try {
        results.push(await work(target));
      } finally {
        await target.close();
      }
    }
  } finally {
    await opener.close();
  }
  return results;
}

/** The named subgraphs' databases open together: a cross-service check reads them side by side. */
export async function withSubgraphDatabases<T>(
  subgraphs: readonly SubgraphName[],
  work: (databases: Map<SubgraphName, SubgraphDatabase>) => Promise<T>,
): Promise<T> {
  const opener = new DatabaseOpener();
  const opened: (SubgraphDatabase & { close(): Promise<void> })[] = [];
  try {
    for (const subgraph of subgraphs) opened.push(await opener.open(subgraph));
    return await work(new Map(opened.map((target) => [target.subgraph, target])));
  } finally {
    for (const target of opened) await target.close();
    await opener.close();
  }
}
