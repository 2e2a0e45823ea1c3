import { BadUserInputError } from '@stockgraph/graphql-kit';
import type { ProductResolvers } from '../generated/resolvers.js';

export const Product: ProductResolvers = {
  __resolveReference: (reference) => ({ id: reference.id }),

  unitsSold: (product, { from, to }, { loaders }) => {
    if (from && to && from >= to) throw new BadUserInputError('from must be before to', 'from');
    return loaders.unitsSold({ from: from ?? null, to: to ?? null }).load(product.id);
  },
};
