import type { AuthContext, Identity } from '@stockgraph/auth';
import type { Database } from '@stockgraph/db';
import type { SubgraphServices } from '@stockgraph/server';
import type * as schema from './db/schema.js';
import { OrderService } from './domain/order.service.js';
import type { OutcomeWaiter } from './domain/outcome-waiter.js';
import { createLoaders, type Loaders } from './loaders.js';

export interface Context extends AuthContext {
  loaders: Loaders;
  orders: OrderService;
}

/** What the bootstrap hook creates once per process and every request shares. */
export interface OrdersServices extends SubgraphServices<typeof schema> {
  outcomes: OutcomeWaiter;
  placeOrderWaitMs: number;
  /** Told of each order created (the saga's metrics). */
  onOrderPlaced?: () => void;
}

export function createContext(
  db: Database<typeof schema>,
  identity: Identity | null,
  services: OrdersServices,
): Context {
  return {
    loaders: createLoaders(db),
    identity,
    orders: new OrderService(
      db,
      services.transact,
      services.outcomes,
      services.placeOrderWaitMs,
      services.wakeRelay,
      services.onOrderPlaced,
    ),
  };
}
