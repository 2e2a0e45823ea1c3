import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startSubgraph, type SubgraphDefinition, type SubgraphRuntime } from '@stockgraph/server';
import { parse } from 'graphql';
import { createContext, type Context } from './context.js';
import * as dbSchema from './db/schema.js';
import { seedDemoData } from './db/seed.js';
import { resolvers } from './resolvers/index.js';

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export const usersSubgraph: SubgraphDefinition<typeof dbSchema, Context> = {
  name: 'users',
  typeDefs,
  resolvers,
  dbSchema,
  pgSchema: 'users',
  migrationsFolder: fileURLToPath(new URL('./db/migrations', import.meta.url)),
  seed: seedDemoData,
  createContext: (db) => createContext(db),
};

export const DEFAULT_PORT = 4001;

export function startUsers(runtime: SubgraphRuntime) {
  return startSubgraph(usersSubgraph, runtime);
}
