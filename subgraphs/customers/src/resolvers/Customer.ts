import { isUuid } from '@stockgraph/ids';
import type { CustomerResolvers } from '../generated/resolvers.js';

export const Customer: CustomerResolvers = {
  // A malformed id in a batch of representations is null for that one, not an error for all of them.
  __resolveReference: (reference, { loaders }) =>
    isUuid(reference.id) ? loaders.customerById.load(reference.id) : null,
};
