import type { ProductConnectionResolvers, StockMovementConnectionResolvers } from '../generated/resolvers.js';

export const ProductConnection: ProductConnectionResolvers = {
  totalCount: (connection, _args, { loaders }) => loaders.productCount(connection.filter),
};

export const StockMovementConnection: StockMovementConnectionResolvers = {
  totalCount: (connection, _args, { loaders }) =>
    connection.period
      ? loaders.movementCountBetween(connection.period).load(connection.productId)
      : loaders.movementCount.load(connection.productId),
};
