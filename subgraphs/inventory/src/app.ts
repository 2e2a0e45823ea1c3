import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startSubgraph, type SubgraphDefinition, type SubgraphRuntime } from '@stockgraph/server';
import { parse } from 'graphql';
import { createContext, type Context } from './context.js';
import * as dbSchema from './db/schema.js';
import { idempotencyKeys, outbox, partitionedTables, processedEvents } from './db/schema.js';
import { INVENTORY_STREAM, ORDERS_STREAM } from './events.js';
import { inventorySaga } from './saga.js';
import { seedDemoData } from './db/seed.js';
import { resolvers } from './resolvers/index.js';

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
  createContext: (db, identity, _req, services) => createContext(db, identity, services),
  events: {
    streams: [INVENTORY_STREAM],
    idempotency: { table: idempotencyKeys, createdAt: idempotencyKeys.createdAt },
    outbox,
    processed: processedEvents,
    consumers: [
      {
        stream: ORDERS_STREAM,
        group: 'inventory',
        handle: (envelope, tx, services) => inventorySaga(services.logger)(envelope, tx),
      },
    ],
  },
};

export const DEFAULT_PORT = 4002;

export function startInventory(runtime: SubgraphRuntime) {
  return startSubgraph(inventorySubgraph, runtime);
}

// For fault tests that run inventory's consumer in-process.
export { inventorySaga } from './saga.js';
export * as inventoryTables from './db/schema.js';
