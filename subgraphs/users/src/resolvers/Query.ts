import { parseId, toConnection, toPage } from '@stockgraph/graphql-kit';
import type { QueryResolvers } from '../generated/resolvers.js';

export const Query: QueryResolvers = {
  me: (_parent, _args, { loaders, identity }) => (identity ? loaders.userById.load(identity.userId) : null),

  user: (_parent, { id }, { loaders }) => loaders.userById.load(parseId(id)),

  users: async (_parent, { first, after }, { loaders }) => {
    const page = toPage({ first, after }, 1);
    const rows = await loaders.users.list(page);
    return toConnection(rows, page, (u) => [u.email]);
  },
};
