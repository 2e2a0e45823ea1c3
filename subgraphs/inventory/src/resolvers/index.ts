import { DateTimeScalar, DecimalScalar } from '@stockgraph/graphql-kit';
import type { Resolvers } from '../generated/resolvers.js';
import { ProductConnection, StockMovementConnection } from './connections.js';
import { PriceChange } from './PriceChange.js';
import { Product } from './Product.js';
import { Mutation } from './Mutation.js';
import { Query } from './Query.js';
import { StockMovement } from './StockMovement.js';
import { Stocktake, StocktakeLine } from './Stocktake.js';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Decimal: DecimalScalar,
  Query,
  Mutation,
  Product,
  PriceChange,
  StockMovement,
  ProductConnection,
  StockMovementConnection,
  Stocktake,
  StocktakeLine,
};
