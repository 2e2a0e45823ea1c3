import type { Database } from '@stockgraph/db';
import { loaderPerArguments, type Page } from '@stockgraph/graphql-kit';
import DataLoader from 'dataloader';
import { ProductRepository } from './db/product.repository.js';
import type * as schema from './db/schema.js';
import { StockMovementRepository } from './db/stock-movement.repository.js';

/** Built per request: batching and caching never outlive one operation. */
export function createLoaders(db: Database<typeof schema>) {
  const products = new ProductRepository(db);
  const movements = new StockMovementRepository(db);
  return {
    products,
    productById: new DataLoader((ids: readonly string[]) => products.findByIds(ids)),
    productBySku: new DataLoader((skus: readonly string[]) => products.findBySkus(skus)),
    priceHistory: new DataLoader((ids: readonly string[]) => products.priceHistoryOf(ids)),
    movementById: new DataLoader((ids: readonly string[]) => movements.findByIds(ids)),
    movementCount: new DataLoader((ids: readonly string[]) => movements.countByProducts(ids)),
    movementsPage: loaderPerArguments(
      (page: Page) => new DataLoader((ids: readonly string[]) => movements.latestByProducts(ids, page)),
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
