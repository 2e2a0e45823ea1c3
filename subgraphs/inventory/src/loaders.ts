import type { Database } from '@stockgraph/db';
import { loaderPerArguments, type Page } from '@stockgraph/graphql-kit';
import DataLoader from 'dataloader';
import { noCache, type CatalogueCache } from './cache/catalogue-cache.js';
import { ProductRepository, type ProductFilter } from './db/product.repository.js';
import type * as schema from './db/schema.js';
import { StockMovementRepository, type LedgerPeriod } from './db/stock-movement.repository.js';
import { StocktakeRepository } from './db/stocktake.repository.js';

/**
 * Built per request: batching and per-request caching never outlive one operation. Product reads go
 * through the catalogue cache (Redis) when it is on; what it misses comes from `db`.
 */
export function createLoaders(db: Database<typeof schema>, cache: CatalogueCache = noCache) {
  const products = new ProductRepository(db);
  const movements = new StockMovementRepository(db);
  const stocktakes = new StocktakeRepository(db);
  const byIds = (ids: readonly string[]) => products.findByIds(ids);
  return {
    products,
    productById: new DataLoader((ids: readonly string[]) => cache.byIds(ids, byIds)),
    productBySku: new DataLoader((skus: readonly string[]) =>
      cache.bySkus(skus, (missing) => products.findBySkus(missing), byIds),
    ),
    // Search pages are not cached: their keys would be whatever callers type. Nor is an empty page.
    productList: (filter: ProductFilter, page: Page) =>
      filter.search
        ? products.list(filter, page)
        : cache.listed(
            'list',
            { filter, page },
            () => products.list(filter, page),
            (rows) => rows.length > 0,
          ),
    productCount: (filter: ProductFilter) =>
      filter.search
        ? products.count(filter)
        : cache.listed(
            'count',
            filter,
            () => products.count(filter),
            (n) => n > 0,
          ),
    priceHistory: new DataLoader((ids: readonly string[]) => products.priceHistoryOf(ids)),
    movementById: new DataLoader((ids: readonly string[]) => movements.findByIds(ids)),
    movementCount: new DataLoader((ids: readonly string[]) => movements.countByProducts(ids)),
    movementCountBetween: loaderPerArguments(
      (period: LedgerPeriod) =>
        new DataLoader((ids: readonly string[]) => movements.countByProductsBetween(ids, period)),
    ),
    movementsPage: loaderPerArguments(
      ({ page, period }: { page: Page; period: LedgerPeriod }) =>
        new DataLoader((ids: readonly string[]) => movements.latestByProducts(ids, page, period)),
    ),
    // Keyed by the moment's ISO string: one statement for every product asked about at that moment.
    stockAt: loaderPerArguments(
      (at: string) => new DataLoader((ids: readonly string[]) => movements.levelsAt(ids, new Date(at))),
    ),
    stockValuation: (at: Date, category: string | null) => movements.valuationAt(at, category),
    stocktakes,
    stocktakeById: new DataLoader((ids: readonly string[]) => stocktakes.findByIds(ids)),
    stocktakeProgress: new DataLoader(async (ids: readonly string[]) => {
      const progress = await stocktakes.progress(ids);
      return ids.map((id) => progress.get(id) ?? { counted: 0, total: 0 });
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
