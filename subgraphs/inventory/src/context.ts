import type { AuthContext, Identity } from '@stockgraph/auth';
import type { Database } from '@stockgraph/db';
import type { SubgraphServices } from '@stockgraph/server';
import type { CatalogueCache } from './cache/catalogue-cache.js';
import type * as schema from './db/schema.js';
import { ProductService } from './domain/product.service.js';
import { StocktakeService } from './domain/stocktake.service.js';
import { createLoaders, type Loaders } from './loaders.js';

export interface Context extends AuthContext {
  loaders: Loaders;
  products: ProductService;
  stocktakes: StocktakeService;
}

export function createContext(
  db: Database<typeof schema>,
  identity: Identity | null,
  services: SubgraphServices<typeof schema>,
  cache?: CatalogueCache,
): Context {
  return {
    loaders: createLoaders(db, cache),
    identity,
    products: new ProductService(services.transact, cache),
    stocktakes: new StocktakeService(services.transact, cache),
  };
}
