import type { Database } from '@stockgraph/db';
import DataLoader from 'dataloader';
import type * as schema from './db/schema.js';
import { UserRepository } from './db/user.repository.js';

/** Built per request: batching and caching never outlive one operation. */
export function createLoaders(db: Database<typeof schema>) {
  const users = new UserRepository(db);
  return {
    users,
    userById: new DataLoader((ids: readonly string[]) => users.findByIds(ids)),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
