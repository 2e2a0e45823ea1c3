/**
 * `pnpm db:migrate`: applies every subgraph's Drizzle migrations and creates the partitions ahead,
 * without starting any server (a deploy step, or a Kubernetes init job). Each subgraph uses
 * <NAME>_DATABASE_URL if set, else DATABASE_URL, else the embedded PGlite in PGLITE_DIR.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { exitOnConfigError, parseEnv, postgresUrl, z } from '@stockgraph/config';
import { customersSubgraph } from '@stockgraph/customers';
import { maintainPartitions, openDatabase } from '@stockgraph/db';
import { inventorySubgraph } from '@stockgraph/inventory';
import { createLogger } from '@stockgraph/logger';
import { ordersSubgraph } from '@stockgraph/orders';
import { usersSubgraph } from '@stockgraph/users';
import { createServiceRoles, serviceRolesEnvShape, wantsRoles } from './db-roles.js';

try {
  const env = parseEnv('db:migrate', {
    DATABASE_URL: postgresUrl.optional(),
    USERS_DATABASE_URL: postgresUrl.optional(),
    INVENTORY_DATABASE_URL: postgresUrl.optional(),
    ORDERS_DATABASE_URL: postgresUrl.optional(),
    CUSTOMERS_DATABASE_URL: postgresUrl.optional(),
    PGLITE_DIR: z.string().min(1).default('.data/pglite'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ...serviceRolesEnvShape,
  });
  const logger = createLogger('db-migrate', env.LOG_LEVEL);
  const urls: Record<string, string | undefined> = {
    users: env.USERS_DATABASE_URL ?? env.DATABASE_URL,
    inventory: env.INVENTORY_DATABASE_URL ?? env.DATABASE_URL,
    orders: env.ORDERS_DATABASE_URL ?? env.DATABASE_URL,
    customers: env.CUSTOMERS_DATABASE_URL ?? env.DATABASE_URL,
  };
  let pglite: PGlite | undefined;
  for (const definition of [usersSubgraph, inventorySubgraph, ordersSubgraph, customersSubgraph]) {
    const url = urls[definition.name];
    if (!url && !pglite) {
      mkdirSync(env.PGLITE_DIR, { recursive: true });
      pglite = await PGlite.create(env.PGLITE_DIR);
    }
    const handle = await openDatabase({ url, pglite, schema: definition.dbSchema, logger, poolMax: 1 });
    try {
      await handle.migrate(definition.migrationsFolder, definition.pgSchema);
      const partitions = maintainPartitions(handle.db, definition.partitionedTables ?? [], logger);
      await partitions.ready;
      partitions.stop();
      logger.info({ subgraph: definition.name, driver: handle.driver }, 'migrated');
    } finally {
      await handle.close();
    }
  }
  await pglite?.close();
  if (wantsRoles(env)) {
    await createServiceRoles([usersSubgraph, inventorySubgraph, ordersSubgraph, customersSubgraph], urls, env, logger);
  }
} catch (error) {
  exitOnConfigError(error);
}
