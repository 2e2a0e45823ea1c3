import type { OrderItemResolvers } from '../generated/resolvers.js';

export const OrderItem: OrderItemResolvers = {
  product: (item) => ({ id: item.productId }),
};
