import type { Database } from '@stockgraph/db';
import { loaderPerArguments, type Page } from '@stockgraph/graphql-kit';
import DataLoader from 'dataloader';
import { noCache, type CatalogueCache } from './cache/catalogue-cache.js';
import { ProductRepository, type ProductFilter } from './db/product.repository.js';
import type * as schema from './db/schema.js';
import { StockMovementRepository } from './db/stock-movement.repository.js';

/**
 * Built per request: batching and per-request caching never outlive one operation. Product reads go
 * through the catalogue cache (Redis) when it is on; what it misses comes from `db`.
 */
export function createLoaders(db: Database<typeof schema>, cache: CatalogueCache = noCache) {
  const products = new ProductRepository(db);
  const movements = new StockMovementRepository(db);
  const byIds = (ids: readonly string[]) => products.findByIds(ids);
  return {
    products,
    productById: new DataLoader((ids: readonly string[]) => cache.byIds(ids, byIds)),
    productBySku: new DataLoader((skus: readonly string[]) =>
      cache.bySkus(skus, (missing) => products.findBySkus(missing), byIds),
    ),
    productList: (filter: ProductFilter, page: Page) =>
      cache.listed('list', { filter, page }, () => products.list(filter, page)),
    productCount: (filter: ProductFilter) => cache.listed('count', filter, () => products.count(filter)),
    priceHistory: new DataLoader((ids: readonly string[]) => products.priceHistoryOf(ids)),
    movementById: new DataLoader((ids: readonly string[]) => movements.findByIds(ids)),
    movementCount: new DataLoader((ids: readonly string[]) => movements.countByProducts(ids)),
    movementsPage: loaderPerArguments(
      (page: Page) => new DataLoader((ids: readonly string[]) => movements.latestByProducts(ids, page)),
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
