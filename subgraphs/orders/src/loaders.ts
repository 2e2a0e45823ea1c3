import type { Database } from '@stockgraph/db';
import { loaderPerArguments, type Page } from '@stockgraph/graphql-kit';
import DataLoader from 'dataloader';
import { OrderRepository, type OrderStatus } from './db/order.repository.js';
import type * as schema from './db/schema.js';
import type { OrderRow } from './db/schema.js';

/** Built per request: batching and caching never outlive one operation. */
export function createLoaders(db: Database<typeof schema>) {
  const orders = new OrderRepository(db);
  return {
    orders,
    orderById: new DataLoader((ids: readonly string[]) => orders.findByIds(ids)),
    itemsByOrder: new DataLoader((ids: readonly string[]) => orders.itemsOf(ids)),
    customerOrders: loaderPerArguments(
      ({ status, page }: { status: OrderStatus | null; page: Page }) =>
        new DataLoader<string, OrderRow[]>((ids) => orders.pageByCustomers(ids, status, page)),
    ),
    customerTotals: loaderPerArguments(
      ({ status }: { status: OrderStatus | null }) =>
        new DataLoader((ids: readonly string[]) => orders.totalsByCustomers(ids, status)),
    ),
    unitsSold: loaderPerArguments(
      ({ from, to }: { from: Date | null; to: Date | null }) =>
        new DataLoader((ids: readonly string[]) => orders.unitsSold(ids, from, to)),
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
