import type { AuthContext, Identity } from '@stockgraph/auth';
import type { Database } from '@stockgraph/db';
import type { SubgraphServices } from '@stockgraph/server';
import { Catalog } from './catalog.js';
import type * as schema from './db/schema.js';
import { createLoaders, type Loaders } from './loaders.js';

export interface Context extends AuthContext {
  loaders: Loaders;
  catalog: Catalog;
}

export function createContext(
  db: Database<typeof schema>,
  identity: Identity | null,
  services: SubgraphServices<typeof schema>,
): Context {
  return { loaders: createLoaders(db), identity, catalog: new Catalog(services.transact) };
}
