import type { Connection } from '@stockgraph/graphql-kit';
import type { ProductFilter } from './db/product.repository.js';
import type { ProductRow, StockMovementRow } from './db/schema.js';

export type ProductConnection = Connection<ProductRow> & { filter: ProductFilter };
export type StockMovementConnection = Connection<StockMovementRow> & { productId: string };
export type UserReference = { id: string };
