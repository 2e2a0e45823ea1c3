import { parseId, UnauthenticatedError } from '@stockgraph/graphql-kit';
import type { Context } from '../context.js';
import type { MutationResolvers } from '../generated/resolvers.js';

function actor(context: Context) {
  if (!context.identity) throw new UnauthenticatedError();
  return context.identity;
}

export const Mutation: MutationResolvers = {
  placeOrder: (_parent, { input }, context) => context.orders.place(actor(context), input),
  cancelOrder: (_parent, { id }, context) => context.orders.cancel(actor(context), parseId(id)),
  fulfillOrder: (_parent, { id }, context) => context.orders.fulfil(parseId(id)),
};
