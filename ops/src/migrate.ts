/**
 * What `pnpm db:migrate`, `pnpm stockgraph db migrate` and the migration job run: applies every
 * subgraph's Drizzle migrations and creates the partitions ahead, without starting any server (a deploy step, or a Kubernetes init
 * job). Each subgraph uses <NAME>_DATABASE_URL if set, else DATABASE_URL, else the embedded PGlite in
 * PGLITE_DIR.
 */

import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { parseEnv, z } from '@stockgraph/config';
import { maintainPartitions, openDatabase, openPglite } from '@stockgraph/db';
import { createLogger } from '@stockgraph/logger';
import { createServiceRoles, serviceRolesEnvShape, wantsRoles } from './roles.js';
import { loadSubgraphServices } from './services.js';
import { targetsEnvShape, targetUrls } from './targets.js';

export const migrateEnvShape = {
  ...targetsEnvShape,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ...serviceRolesEnvShape,
};

/** Every subgraph's tables, migrations and partitions, in the registry's order (loaded on first use). */
export async function subgraphDefinitions() {
  return (await loadSubgraphServices()).map((service) => service.definition);
}

/** Applies every subgraph's migrations; returns which subgraph ran on which driver. */
export async function migrateDatabases(source: NodeJS.ProcessEnv = process.env) {
  const env = parseEnv('db:migrate', migrateEnvShape, source);
  const logger = createLogger('db-migrate', env.LOG_LEVEL);
  const urls: Record<string, string | undefined> = targetUrls(env);
  const migrated: { subgraph: string; driver: string }[] = [];
  const definitions = await subgraphDefinitions();
  let pglite: PGlite | undefined;
  try {
    for (const definition of definitions) {
      const url = urls[definition.name];
      if (!url && !pglite) {
        mkdirSync(env.PGLITE_DIR, { recursive: true });
        pglite = await openPglite(env.PGLITE_DIR);
      }
      const handle = await openDatabase({ url, pglite, schema: definition.dbSchema, logger, poolMax: 1 });
      try {
        await handle.migrate(definition.migrationsFolder, definition.pgSchema);
        const partitions = maintainPartitions(handle.db, definition.partitionedTables ?? [], logger);
        await partitions.ready;
        partitions.stop();
        logger.info({ subgraph: definition.name, driver: handle.driver }, 'migrated');
        migrated.push({ subgraph: definition.name, driver: handle.driver });
      } finally {
        await handle.close();
      }
    }
  } finally {
    await pglite?.close();
  }
  if (wantsRoles(env)) await createServiceRoles(definitions, urls, env, logger);
  return migrated;
}
