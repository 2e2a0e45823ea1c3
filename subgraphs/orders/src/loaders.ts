import type { Database } from '@stockgraph/db';
import { loaderPerArguments, type Page } from '@stockgraph/graphql-kit';
import DataLoader from 'dataloader';
import { ArchiveRepository } from './db/archive.repository.js';
import { OrderRepository, type OrderStatus } from './db/order.repository.js';
import type * as schema from './db/schema.js';
import type { OrderRow } from './db/schema.js';

/** Built per request: batching and caching never outlive one operation. */
export function createLoaders(db: Database<typeof schema>) {
  const orders = new OrderRepository(db);
  const archive = new ArchiveRepository(db);
  return {
    orders,
    archive,
    // An id the live tables lack may name an archived order: only those misses go to the archive.
    orderById: new DataLoader(async (ids: readonly string[]) => {
      const live = await orders.findByIds(ids);
      const missing = ids.filter((_, i) => !live[i]);
      if (missing.length === 0) return live;
      const archived = new Map((await archive.findByIds(missing)).flatMap((o) => (o ? [[o.id, o] as const] : [])));
      return ids.map((id, i) => live[i] ?? archived.get(id) ?? null);
    }),
    // Every order has items, so an order with none live is an archived one.
    itemsByOrder: new DataLoader(async (ids: readonly string[]) => {
      const live = await orders.itemsOf(ids);
      const missing = ids.filter((_, i) => live[i]!.length === 0);
      if (missing.length === 0) return live;
      const archived = await archive.itemsOf(missing);
      return ids.map((id, i) => (live[i]!.length > 0 ? live[i]! : archived[missing.indexOf(id)]!));
    }),
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
