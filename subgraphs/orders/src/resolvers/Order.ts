import { isUuidV7 } from '@stockgraph/ids';
import type { OrderResolvers } from '../generated/resolvers.js';

export const Order: OrderResolvers = {
  __resolveReference: (reference, { loaders }) =>
    isUuidV7(reference.id) ? loaders.orderById.load(reference.id) : null,
  customer: (order) => ({ id: order.customerId }),
  items: (order, _args, { loaders }) => loaders.itemsByOrder.load(order.id),
  createdBy: (order) => (order.createdBy ? { id: order.createdBy } : null),
};
