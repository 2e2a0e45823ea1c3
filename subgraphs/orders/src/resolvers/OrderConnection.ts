import type { OrderConnectionResolvers } from '../generated/resolvers.js';

export const OrderConnection: OrderConnectionResolvers = {
  totalCount: async (connection, _args, { loaders }) =>
    'filter' in connection
      ? (connection.filter.archived ? loaders.archive : loaders.orders).count(connection.filter)
      : (await loaders.customerTotals({ status: connection.status }).load(connection.customerId)).orderCount,
};
