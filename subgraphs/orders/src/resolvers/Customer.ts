import { toConnection, toPage } from '@stockgraph/graphql-kit';
import type { CustomerResolvers } from '../generated/resolvers.js';
import { orderCursor } from './Query.js';

export const Customer: CustomerResolvers = {
  // Orders knows a customer only by id; the customers subgraph owns the rest.
  __resolveReference: (reference) => ({ id: reference.id }),

  orders: async (customer, { first, after, status }, { loaders }) => {
    const page = toPage({ first, after }, 1, ([id]) => orderCursor(id ?? ''));
    const rows = await loaders.customerOrders({ status: status ?? null, page }).load(customer.id);
    return { ...toConnection(rows, page, (o) => [o.id]), customerId: customer.id, status: status ?? null };
  },

  orderCount: async (customer, _args, { loaders }) =>
    (await loaders.customerTotals({ status: null }).load(customer.id)).orderCount,

  lifetimeValue: async (customer, _args, { loaders }) =>
    (await loaders.customerTotals({ status: null }).load(customer.id)).lifetimeValue,
};
