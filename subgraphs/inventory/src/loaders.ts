import type { Database } from '@stockgraph/db';
import type { Page } from '@stockgraph/graphql-kit';
import DataLoader from 'dataloader';
import { ProductRepository } from './db/product.repository.js';
import type * as schema from './db/schema.js';
import { StockMovementRepository } from './db/stock-movement.repository.js';

/** Built per request: batching and caching never outlive one operation. */
export function createLoaders(db: Database<typeof schema>) {
  const products = new ProductRepository(db);
  const movements = new StockMovementRepository(db);
  // One loader per distinct page request: products asking for the same page batch into one statement.
  const movementPages = new Map<string, DataLoader<string, Awaited<ReturnType<typeof movements.latestByProducts>>[number]>>();
  return {
    products,
    productById: new DataLoader((ids: readonly string[]) => products.findByIds(ids)),
    productBySku: new DataLoader((skus: readonly string[]) => products.findBySkus(skus)),
    priceHistory: new DataLoader((ids: readonly string[]) => products.priceHistoryOf(ids)),
    movementCount: new DataLoader((ids: readonly string[]) => movements.countByProducts(ids)),
    movementsPage(page: Page) {
      const key = JSON.stringify(page);
      let loader = movementPages.get(key);
      if (!loader) {
        loader = new DataLoader((ids: readonly string[]) => movements.latestByProducts(ids, page));
        movementPages.set(key, loader);
      }
      return loader;
    },
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
