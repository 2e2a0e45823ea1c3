import type { Database } from '@stockgraph/db';
import DataLoader from 'dataloader';
import { CustomerRepository } from './db/customer.repository.js';
import type * as schema from './db/schema.js';

/** Built per request: batching and caching never outlive one operation. */
export function createLoaders(db: Database<typeof schema>) {
  const customers = new CustomerRepository(db);
  return {
    customers,
    customerById: new DataLoader((ids: readonly string[]) => customers.findByIds(ids)),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
