import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inventoryStream, ordersStream } from '@stockgraph/contracts';
import { startSubgraph, type SubgraphDefinition, type SubgraphRuntime } from '@stockgraph/server';
import { parse } from 'graphql';
import { createContext, type Context } from './context.js';
import * as dbSchema from './db/schema.js';
import { idempotencyKeys, outbox, partitionedTables, processedEvents } from './db/schema.js';
import { seedDemoData } from './db/seed.js';
import type { InventoryEnv } from './env.js';
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
      },
    ],
  },
};

export function startInventory(runtime: SubgraphRuntime & { env: InventoryEnv }) {
  return startSubgraph(inventorySubgraph, runtime);
}

// For fault tests that run inventory's consumer in-process.
export { applyOrdersEvent } from './events/orders.handler.js';
export * as inventoryTables from './db/schema.js';
