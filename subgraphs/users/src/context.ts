import type { AuthContext, Identity } from '@stockgraph/auth';
import type { Database } from '@stockgraph/db';
import type { Accounts } from './accounts.js';
import type * as schema from './db/schema.js';
import { createLoaders, type Loaders } from './loaders.js';

export interface Context extends AuthContext {
  loaders: Loaders;
  accounts: Accounts;
  /** The end client's address as the gateway saw it, for sign-in throttling. */
  clientAddress: string;
}

export function createContext(
  db: Database<typeof schema>,
  identity: Identity | null,
  accounts: Accounts,
  clientAddress: string,
): Context {
  return { loaders: createLoaders(db), identity, accounts, clientAddress };
}
