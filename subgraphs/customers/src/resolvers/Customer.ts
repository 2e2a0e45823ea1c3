import type { CustomerResolvers } from '../generated/resolvers.js';

export const Customer: CustomerResolvers = {
  __resolveReference: (reference, { loaders }) => loaders.customerById.load(reference.id),
};
