import type { RejectedProductResolvers } from '../generated/resolvers.js';

export const RejectedProduct: RejectedProductResolvers = {
  product: (rejected) => ({ id: rejected.productId }),
};
