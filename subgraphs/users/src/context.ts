import type { AuthContext, Identity } from '@stockgraph/auth';
import type { Database } from '@stockgraph/db';
import type * as schema from './db/schema.js';
import type { UserService } from './domain/user.service.js';
import { createLoaders, type Loaders } from './loaders.js';

export interface Context extends AuthContext {
  loaders: Loaders;
  users: UserService;
  /** The end client's address as the gateway saw it, for sign-in throttling. */
  clientAddress: string;
}

/** One request's context: fresh loaders, the service created once at bootstrap. */
export function createContext(
  db: Database<typeof schema>,
  identity: Identity | null,
  users: UserService,
  clientAddress: string,
): Context {
  return { loaders: createLoaders(db), identity, users, clientAddress };
}
