import type { AuthContext, Identity } from '@stockgraph/auth';
import type { Database } from '@stockgraph/db';
import type * as schema from './db/schema.js';
import type { CustomerService } from './domain/customer.service.js';
import { createLoaders, type Loaders } from './loaders.js';

export interface Context extends AuthContext {
  loaders: Loaders;
  customers: CustomerService;
}

/** One request's context: fresh loaders, the service created once at bootstrap. */
export function createContext(
  db: Database<typeof schema>,
  identity: Identity | null,
  customers: CustomerService,
): Context {
  return { loaders: createLoaders(db), identity, customers };
}
