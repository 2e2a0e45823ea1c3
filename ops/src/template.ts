/**
 * A migrated, seeded PGlite data directory, built once (at `pnpm install`, by the root's `prepare`
 * script) and copied into an empty PGLITE_DIR on first start: copying its ~100 MB takes a few hundred
 * milliseconds where initdb, the migrations and seeding the two years of demo history take well over
 * ten. It is kept as a plain directory rather than PGlite's gzipped dump: `loadDataDir` gunzips and
 * untars in JavaScript, which took 4–7 s here, against 0.4 s for the copy.
 *
 * The file is keyed by everything that decides its contents (each subgraph's src/db: migrations,
 * tables, repositories and seed; the demo-data package; the PGlite version); a stale key means the first start seeds as before.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { maintainPartitions, openDatabase, openPglite, type Database, type PartitionedTable } from '@stockgraph/db';
import type { Logger } from '@stockgraph/logger';
import { SUBGRAPHS } from '@stockgraph/registry';
import { loadSubgraphServices } from './services.js';

// The checkout this module is in, not a file it reads: written without `new URL(…, import.meta.url)`
// so that the image build (scripts/build.ts) does not take the whole checkout for an asset to ship.
export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
/** Under node_modules: made by install, not committed, kept when `.data/` is deleted. */
export const TEMPLATE_DIR = join(ROOT, 'node_modules/.cache/stockgraph');
export const TEMPLATE_DATA_DIR = join(TEMPLATE_DIR, 'pglite-demo');
export const TEMPLATE_KEY_FILE = join(TEMPLATE_DIR, 'pglite-demo.key');

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .sort();
}

/** A hash of what the template's contents follow from. */
export function templateKey(): string {
  const hash = createHash('sha256');
  const inputs = [
    // Migrations, tables, repositories and seed of each subgraph.
    ...SUBGRAPHS.flatMap((entry) => filesUnder(join(ROOT, entry.dir, 'src/db'))),
    ...filesUnder(join(ROOT, 'packages/demo-data/src')),
    join(ROOT, 'node_modules/@electric-sql/pglite/package.json'),
  ];
  for (const path of inputs) {
    hash.update(relative(ROOT, path));
    hash.update(existsSync(path) ? readFileSync(path) : '');
  }
  return hash.digest('hex');
}

/** The template's data directory when it matches the working tree, else undefined. */
export function currentTemplate(): string | undefined {
  if (isFreshDataDir(TEMPLATE_DATA_DIR) || !existsSync(TEMPLATE_KEY_FILE)) return undefined;
  if (readFileSync(TEMPLATE_KEY_FILE, 'utf8').trim() !== templateKey()) return undefined;
  return TEMPLATE_DATA_DIR;
}

/** A data directory that PostgreSQL has not initialised yet. */
export function isFreshDataDir(dir: string): boolean {
  return !existsSync(join(dir, 'PG_VERSION'));
}

/** What startSubgraph does to an empty database before it serves: migrate, partition, seed. */
async function prepare<TSchema extends Record<string, unknown>>(
  pglite: PGlite,
  definition: {
    dbSchema: TSchema;
    pgSchema: string;
    migrationsFolder: string;
    partitionedTables?: PartitionedTable[];
    seed?: (db: Database<TSchema>, logger: Logger) => Promise<void>;
  },
  logger: Logger,
): Promise<void> {
  const handle = await openDatabase({ pglite, schema: definition.dbSchema, logger });
  await handle.migrate(definition.migrationsFolder, definition.pgSchema);
  const partitions = maintainPartitions(handle.db, definition.partitionedTables ?? [], logger);
  await partitions.ready;
  partitions.stop();
  await definition.seed?.(handle.db, logger);
}

/**
 * Builds the demo template: exactly what the services do on an empty database (their migrations,
 * partitions and demo seed), once, ahead of time. Returns where it is.
 */
export async function buildDemoTemplate(logger: Logger): Promise<string> {
  const key = templateKey();
  const services = await loadSubgraphServices();
  // Built aside and renamed into place, and the key written last, so a start running meanwhile
  // either finds no current template or a whole one.
  const partial = `${TEMPLATE_DATA_DIR}.partial`;
  mkdirSync(TEMPLATE_DIR, { recursive: true });
  rmSync(TEMPLATE_KEY_FILE, { force: true });
  rmSync(partial, { recursive: true, force: true });
  const pglite = await openPglite(partial);
  // One at a time, in the registry's order: they share the one PGlite connection.
  for (const service of services) await prepare(pglite, service.definition, logger);
  // A checkpoint leaves the copies nothing to replay from the WAL on their first open.
  await pglite.exec('CHECKPOINT');
  await pglite.close();
  rmSync(TEMPLATE_DATA_DIR, { recursive: true, force: true });
  renameSync(partial, TEMPLATE_DATA_DIR);
  writeFileSync(TEMPLATE_KEY_FILE, `${key}\n`);
  // The gzipped dump earlier versions made, no longer read.
  rmSync(`${TEMPLATE_DIR}/pglite-demo.tar.gz`, { force: true });
  return TEMPLATE_DATA_DIR;
}
