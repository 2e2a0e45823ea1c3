import type { AuthContext, Identity } from '@stockgraph/auth';
import type { Database } from '@stockgraph/db';
import type { SubgraphServices } from '@stockgraph/server';
import type * as schema from './db/schema.js';
import { OrderDesk } from './desk.js';
import { createLoaders, type Loaders } from './loaders.js';

export interface Context extends AuthContext {
  loaders: Loaders;
  desk: OrderDesk;
}

export function createContext(
  db: Database<typeof schema>,
  identity: Identity | null,
  services: SubgraphServices<typeof schema>,
  placeOrderWaitMs: number,
): Context {
  return { loaders: createLoaders(db), identity, desk: new OrderDesk(db, services.transact, placeOrderWaitMs) };
}
