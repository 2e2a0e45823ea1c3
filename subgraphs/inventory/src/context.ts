import type { AuthContext, Identity } from '@stockgraph/auth';
import type { Database } from '@stockgraph/db';
import type * as schema from './db/schema.js';
import { createLoaders, type Loaders } from './loaders.js';

export interface Context extends AuthContext {
  loaders: Loaders;
}

export function createContext(db: Database<typeof schema>, identity: Identity | null): Context {
  return { loaders: createLoaders(db), identity };
}
