import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startSubgraph, type SubgraphDefinition, type SubgraphRuntime } from '@stockgraph/server';
import { parse } from 'graphql';
import { createContext, type Context } from './context.js';
import * as dbSchema from './db/schema.js';
import { partitionedTables } from './db/schema.js';
import { seedDemoData } from './db/seed.js';
import { resolvers } from './resolvers/index.js';

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export const ordersSubgraph: SubgraphDefinition<typeof dbSchema, Context> = {
  name: 'orders',
  typeDefs,
  resolvers,
  dbSchema,
  pgSchema: 'orders',
  migrationsFolder: fileURLToPath(new URL('./db/migrations', import.meta.url)),
  partitionedTables,
  seed: seedDemoData,
  createContext: (db, identity) => createContext(db, identity),
};

export const DEFAULT_PORT = 4003;

export function startOrders(runtime: SubgraphRuntime) {
  return startSubgraph(ordersSubgraph, runtime);
}
