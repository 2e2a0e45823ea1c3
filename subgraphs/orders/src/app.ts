import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { atLeast, type Policy } from '@stockgraph/auth';
import { isUuidV7 } from '@stockgraph/ids';
import { startSubgraph, type SubgraphDefinition, type SubgraphRuntime } from '@stockgraph/server';
import { parse } from 'graphql';
import { createContext, type Context } from './context.js';
import * as dbSchema from './db/schema.js';
import { idempotencyKeys, outbox, partitionedTables, processedEvents } from './db/schema.js';
import { seedDemoData } from './db/seed.js';
import type { OrdersEnv } from './env.js';
import { CUSTOMERS_STREAM, INVENTORY_STREAM, ORDERS_STREAM } from './events.js';
import { resolvers } from './resolvers/index.js';
import { announceOutcome, applyEvent, retryStalePending } from './saga.js';

export { DEFAULT_PORT, parseOrdersEnv } from './env.js';

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

const policies: Record<string, Policy<Context>> = {
  // Staff may cancel the orders they placed; managers and admins any. An unknown id passes here and
  // is answered NOT_FOUND by the resolver.
  'order-owner-or-manager': async (_parent, args, { identity, loaders }) => {
    if (!identity) return false;
    if (atLeast(identity.role, 'MANAGER')) return true;
    const id = String(args.id ?? '').toLowerCase();
    const order = isUuidV7(id) ? await loaders.orderById.load(id) : null;
    return !order || order.createdBy === identity.userId;
  },
};

function definition(placeOrderWaitMs: number, sagaRetryMs: number): SubgraphDefinition<typeof dbSchema, Context> {
  return {
    name: 'orders',
    typeDefs,
    resolvers,
    dbSchema,
    pgSchema: 'orders',
    migrationsFolder: fileURLToPath(new URL('./db/migrations', import.meta.url)),
    partitionedTables,
    seed: seedDemoData,
    createContext: (db, identity, _req, services) => createContext(db, identity, services, placeOrderWaitMs),
    policies,
    background: (_db, services) => retryStalePending(services, sagaRetryMs),
    events: {
      streams: [ORDERS_STREAM],
      idempotency: { table: idempotencyKeys, createdAt: idempotencyKeys.createdAt },
      outbox,
      processed: processedEvents,
      consumers: [
        {
          stream: INVENTORY_STREAM,
          group: 'orders',
          handle: (envelope, tx) => applyEvent(envelope, tx),
          afterCommit: announceOutcome,
        },
        { stream: CUSTOMERS_STREAM, group: 'orders', handle: (envelope, tx) => applyEvent(envelope, tx) },
      ],
    },
  };
}

/** For tools that only migrate (db:migrate). */
export const ordersSubgraph = definition(0, 30_000);

export function startOrders(runtime: Omit<SubgraphRuntime, 'env'> & { env: OrdersEnv }) {
  return startSubgraph(definition(runtime.env.PLACE_ORDER_WAIT_MS, runtime.env.SAGA_RETRY_MS), runtime);
}
