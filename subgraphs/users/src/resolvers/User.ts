import { isUuid } from '@stockgraph/ids';
import type { UserResolvers } from '../generated/resolvers.js';

export const User: UserResolvers = {
  // A malformed id in a batch of representations is null for that one, not an error for all of them.
  __resolveReference: (reference, { loaders }) => (isUuid(reference.id) ? loaders.userById.load(reference.id) : null),
};
