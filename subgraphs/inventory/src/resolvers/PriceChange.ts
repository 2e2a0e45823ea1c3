import type { PriceChangeResolvers } from '../generated/resolvers.js';

export const PriceChange: PriceChangeResolvers = {
  changedBy: (change) => (change.changedBy ? { id: change.changedBy } : null),
};
