import { parseId } from '@stockgraph/graphql-kit';
import type { MutationResolvers } from '../generated/resolvers.js';

export const Mutation: MutationResolvers = {
  createCustomer: (_parent, { input }, { customers, identity }) => customers.create(input, identity),

  updateCustomer: (_parent, { id, input }, { customers }) => customers.update(parseId(id), input),
};
