import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { customersStream } from '@stockgraph/contracts';
import { startSubgraph, subgraphService, type SubgraphDefinition, type SubgraphRuntime } from '@stockgraph/server';
import { parse } from 'graphql';
import { createContext, type Context } from './context.js';
import * as dbSchema from './db/schema.js';
import { idempotencyKeys, outbox } from './db/schema.js';
import { seedDemoData } from './db/seed.js';
import { CustomerService } from './domain/customer.service.js';
import { parseCustomersEnv } from './env.js';
import { resolvers } from './resolvers/index.js';

export { DEFAULT_PORT, parseCustomersEnv } from './env.js';

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export const customersSubgraph: SubgraphDefinition<typeof dbSchema, Context> = {
  name: 'customers',
  typeDefs,
  resolvers,
  dbSchema,
  pgSchema: 'customers',
  migrationsFolder: fileURLToPath(new URL('./db/migrations', import.meta.url)),
  seed: seedDemoData,
  bootstrap: (db, services) => {
    const customers = new CustomerService(db, services.transact);
    return { context: (identity) => createContext(db, identity, customers) };
  },
  events: {
    streams: [customersStream.name],
    outbox,
    idempotency: { table: idempotencyKeys, createdAt: idempotencyKeys.createdAt },
  },
};

export function startCustomers(runtime: SubgraphRuntime) {
  return startSubgraph(customersSubgraph, runtime);
}

/** How the launcher and the tools load this subgraph (see @stockgraph/registry). */
export const service = subgraphService({
  definition: customersSubgraph,
  parseEnv: parseCustomersEnv,
  start: startCustomers,
});
