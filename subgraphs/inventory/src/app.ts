import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inventoryStream, ordersStream } from '@stockgraph/contracts';
import { startSubgraph, subgraphService, type SubgraphDefinition, type SubgraphRuntime } from '@stockgraph/server';
import { parse } from 'graphql';
import { createCatalogueCache, noCache } from './cache/catalogue-cache.js';
import { followCatalogueChanges } from './cache/follower.js';
import { createContext, type Context } from './context.js';
import * as dbSchema from './db/schema.js';
import { idempotencyKeys, outbox, partitionedTables, processedEvents } from './db/schema.js';
import { seedDemoData } from './db/seed.js';
import { parseInventoryEnv, type InventoryEnv } from './env.js';
import { applyOrdersEvent } from './events/orders.handler.js';
import { resolvers } from './resolvers/index.js';

export { DEFAULT_PORT, parseInventoryEnv } from './env.js';

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export const inventorySubgraph: SubgraphDefinition<typeof dbSchema, Context> = {
  name: 'inventory',
  typeDefs,
  resolvers,
  dbSchema,
  pgSchema: 'inventory',
  migrationsFolder: fileURLToPath(new URL('./db/migrations', import.meta.url)),
  partitionedTables,
  seed: seedDemoData,
  bootstrap: (db, services) => ({ context: (identity) => createContext(db, identity, services) }),
  events: {
    streams: [inventoryStream.name],
    idempotency: { table: idempotencyKeys, createdAt: idempotencyKeys.createdAt },
    outbox,
    processed: processedEvents,
    consumers: [
      {
        stream: ordersStream.name,
        group: 'inventory',
        handle: (envelope, tx, services) => applyOrdersEvent(envelope, { tx, logger: services.logger }),
        applies: applyOrdersEvent.applies,
      },
    ],
  },
};

type Bootstrap = NonNullable<SubgraphDefinition<typeof dbSchema, Context>['bootstrap']>;

/**
 * With REDIS_URL and a CATALOGUE_CACHE_TTL_MS above 0, product reads go through the catalogue cache
 * in Redis, and this replica follows the inventory stream to drop what others changed. Otherwise
 * (the embedded `pnpm start`, which has no Redis) every read goes to the database.
 */
function withCatalogueCache(env: InventoryEnv): Bootstrap {
  // Absent when a caller parsed only the shared settings (test harnesses): off.
  const ttlMs = (env.CATALOGUE_CACHE_TTL_MS as number | undefined) ?? 0;
  return (db, services) => {
    if (!env.REDIS_URL || ttlMs === 0) return { context: (identity) => createContext(db, identity, services, noCache) };
    const cache = createCatalogueCache({
      url: env.REDIS_URL,
      prefix: `${env.EVENTS_PREFIX}catalogue:`,
      ttlMs,
      // A replica stays in rotation until a check finds it further behind than the allowed lag.
      replicaLagMs:
        env.DATABASE_REPLICA_URLS.length > 0 ? env.DATABASE_REPLICA_MAX_LAG_MS + env.DATABASE_REPLICA_CHECK_MS : 0,
      logger: services.logger,
      registry: services.registry,
    });
    const follower = followCatalogueChanges(services.bus, cache, services.logger);
    return {
      context: (identity) => createContext(db, identity, services, cache),
      stop: async () => {
        await follower.stop();
        await cache.close();
      },
    };
  };
}

export function startInventory(runtime: SubgraphRuntime & { env: InventoryEnv }) {
  return startSubgraph({ ...inventorySubgraph, bootstrap: withCatalogueCache(runtime.env) }, runtime);
}

// For fault tests that run inventory's consumer in-process.
export { applyOrdersEvent } from './events/orders.handler.js';
export * as inventoryTables from './db/schema.js';

/** How the launcher and the tools load this subgraph (see @stockgraph/registry). */
export const service = subgraphService({
  definition: inventorySubgraph,
  parseEnv: parseInventoryEnv,
  start: startInventory,
});
