import type { CustomerConnectionResolvers } from '../generated/resolvers.js';

export const CustomerConnection: CustomerConnectionResolvers = {
  totalCount: (connection, _args, { loaders }) => loaders.customers.count(connection.search, connection.withContact),
};
