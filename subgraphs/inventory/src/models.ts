import type { Connection } from '@stockgraph/graphql-kit';
import type { ProductFilter } from './db/product.repository.js';
import type { LedgerPeriod } from './db/stock-movement.repository.js';
import type { ProductRow, StockMovementRow, StocktakeRow } from './db/schema.js';
import type { StocktakeLineView } from './db/stocktake.repository.js';

export type ProductConnection = Connection<ProductRow> & { filter: ProductFilter };
/** `period` set when the list was narrowed by `since`/`until`: totalCount then counts that period. */
export type StockMovementConnection = Connection<StockMovementRow> & { productId: string; period?: LedgerPeriod };
export type UserReference = { id: string };
export type StocktakeConnection = Connection<StocktakeRow>;
export type StocktakeLineConnection = Connection<StocktakeLineModel>;
export type StocktakeLineModel = StocktakeLineView;
