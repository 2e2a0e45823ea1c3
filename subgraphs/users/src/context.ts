import type { Database } from '@stockgraph/db';
import type * as schema from './db/schema.js';
import { createLoaders, type Loaders } from './loaders.js';

export interface Context {
  loaders: Loaders;
  /** The signed-in user's id; null until authentication lands (see the authorization issue). */
  userId: string | null;
}

export function createContext(db: Database<typeof schema>): Context {
  return { loaders: createLoaders(db), userId: null };
}
