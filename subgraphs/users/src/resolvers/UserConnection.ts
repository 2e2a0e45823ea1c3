import type { UserConnectionResolvers } from '../generated/resolvers.js';

export const UserConnection: UserConnectionResolvers = {
  totalCount: (_connection, _args, { loaders }) => loaders.users.count(),
};
