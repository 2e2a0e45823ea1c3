import type { Database } from '@stockgraph/db';
import type * as schema from './db/schema.js';
import { createLoaders, type Loaders } from './loaders.js';

export interface Context {
  loaders: Loaders;
}

export function createContext(db: Database<typeof schema>): Context {
  return { loaders: createLoaders(db) };
}
