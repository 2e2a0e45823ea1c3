/**
 * `pnpm db:template` (also run by `pnpm install` through `prepare`): builds the migrated, seeded PGlite
 * data directory that `pnpm start` and `pnpm dev` copy on first start. Exactly what the services do
 * on an empty database — their migrations, partitions and demo seed — only once, ahead of time.
 * Never fails the install: without a template the first start seeds as it always did.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { maintainPartitions, openDatabase, openPglite, type Database, type PartitionedTable } from '@stockgraph/db';
import { createLogger, type Logger } from '@stockgraph/logger';
import {
  currentTemplate,
  TEMPLATE_DATA_DIR,
  TEMPLATE_DIR,
  TEMPLATE_KEY_FILE,
  templateKey,
} from './launcher/template.js';
import { loadSubgraphServices } from './subgraph-services.js';

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

const started = performance.now();
try {
  // Production and image builds never start the embedded demo: building its template there is wasted time.
  if (process.env.NODE_ENV === 'production' || process.env.DEMO_TEMPLATE === 'off') process.exit(0);
  if (!process.argv.includes('--force') && currentTemplate()) {
    process.stdout.write('Demo database template is up to date.\n');
    process.exit(0);
  }
  const key = templateKey();
  const logger = createLogger('db-template', process.env.LOG_LEVEL ?? 'warn');
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
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`Demo database template built in ${seconds}s (${TEMPLATE_DATA_DIR}).\n`);
} catch (error) {
  process.stderr.write(
    `Could not build the demo database template (the first start will seed instead): ${(error as Error).message}\n`,
  );
}
