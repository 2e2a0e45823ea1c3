import type { UserResolvers } from '../generated/resolvers.js';

export const User: UserResolvers = {
  __resolveReference: (reference, { loaders }) => loaders.userById.load(reference.id),
};
