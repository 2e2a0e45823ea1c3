import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { customersStream, inventoryStream, ordersStream } from '@stockgraph/contracts';
import { startSubgraph, subgraphService, type SubgraphDefinition, type SubgraphRuntime } from '@stockgraph/server';
import { parse } from 'graphql';
import { createContext, type Context } from './context.js';
import * as dbSchema from './db/schema.js';
import { idempotencyKeys, outbox, partitionedTables, processedEvents } from './db/schema.js';
import { ORDER_OUTCOME_CHANNEL, parseOutcomeNotice } from './db/order-writer.repository.js';
import { seedDemoData } from './db/seed.js';
import { foldAggregatesEvery } from './domain/aggregate-folding.js';
import { OutcomeWaiter } from './domain/outcome-waiter.js';
import { retryStalePending } from './domain/pending-orders.js';
import { sagaMetrics } from './domain/saga-metrics.js';
import { parseOrdersEnv, type OrdersEnv } from './env.js';
import { applyCustomersEvent } from './events/customers.handler.js';
import { applyInventoryEvent } from './events/inventory.handler.js';
import { policies } from './policies.js';
import { resolvers } from './resolvers/index.js';

export { DEFAULT_PORT, parseOrdersEnv } from './env.js';
export { policies } from './policies.js';

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

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
    // The waiter lives as long as the process: requests wait on it; the inventory handler wakes them,
    // here directly and on every other replica through the outcome NOTIFY it sends.
    bootstrap: async (db, services) => {
      const outcomes = new OutcomeWaiter();
      const listening = await services.listen(ORDER_OUTCOME_CHANNEL, (payload) => {
        const notice = parseOutcomeNotice(payload);
        outcomes.announce(notice.id, notice);
      });
      const sweep = retryStalePending(services, sagaRetryMs);
      const folding = foldAggregatesEvery(db, services.logger);
      const saga = sagaMetrics(services.registry, db, sagaRetryMs);
      return {
        context: (identity) =>
          createContext(db, identity, { ...services, outcomes, placeOrderWaitMs, onOrderPlaced: saga.placed }),
        consumers: [
          {
            stream: inventoryStream.name,
            group: 'orders',
            handle: (envelope, tx) =>
              applyInventoryEvent(envelope, {
                tx,
                decided: (outcome, order) => saga.decided(envelope.id, outcome, order),
              }),
            applies: applyInventoryEvent.applies,
            // An event the handler could not read was parked by the consumer already.
            // The placeOrder call waiting in this process gets the decided order itself, without
            // reading it again; other replicas hear of it through the NOTIFY the handler sent.
            afterCommit: (envelope) => {
              const order = saga.committed(envelope.id);
              if (order) outcomes.announce(order.id, order);
            },
          },
          {
            stream: customersStream.name,
            group: 'orders',
            handle: (envelope, tx) => applyCustomersEvent(envelope, tx),
            applies: applyCustomersEvent.applies,
          },
        ],
        stop: async () => {
          sweep.stop();
          await folding.stop();
          await listening.stop();
        },
      };
    },
    policies,
    events: {
      streams: [ordersStream.name],
      idempotency: { table: idempotencyKeys, createdAt: idempotencyKeys.createdAt },
      outbox,
      processed: processedEvents,
    },
  };
}

/** For tools that only migrate (db:migrate). */
export const ordersSubgraph = definition(0, 30_000);

export function startOrders(runtime: Omit<SubgraphRuntime, 'env'> & { env: OrdersEnv }) {
  return startSubgraph(definition(runtime.env.PLACE_ORDER_WAIT_MS, runtime.env.SAGA_RETRY_MS), runtime);
}

/** How the launcher and the tools load this subgraph (see @stockgraph/registry). */
export const service = subgraphService({ definition: ordersSubgraph, parseEnv: parseOrdersEnv, start: startOrders });
