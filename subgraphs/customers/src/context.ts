import type { AuthContext, Identity } from '@stockgraph/auth';
import type { Database } from '@stockgraph/db';
import type { SubgraphServices } from '@stockgraph/server';
import type * as schema from './db/schema.js';
import { createLoaders, type Loaders } from './loaders.js';
import { CustomerRegistry } from './registry.js';

export interface Context extends AuthContext {
  loaders: Loaders;
  registry: CustomerRegistry;
}

export function createContext(
  db: Database<typeof schema>,
  identity: Identity | null,
  services: SubgraphServices<typeof schema>,
): Context {
  return { loaders: createLoaders(db), identity, registry: new CustomerRegistry(db, services.wakeRelay) };
}
