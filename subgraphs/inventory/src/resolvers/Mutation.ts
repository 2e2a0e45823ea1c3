import { parseId, UnauthenticatedError } from '@stockgraph/graphql-kit';
import type { Context } from '../context.js';
import type { MutationResolvers } from '../generated/resolvers.js';

function actor(context: Context) {
  if (!context.identity) throw new UnauthenticatedError();
  return context.identity;
}

export const Mutation: MutationResolvers = {
  createProduct: (_parent, { input }, context) => context.products.createProduct(input, actor(context)),
  updateProduct: (_parent, { id, input }, context) =>
    context.products.updateProduct(parseId(id), input, actor(context)),
  receiveStock: (_parent, { productId, quantity, note, idempotencyKey }, context) =>
    context.products.receiveStock(parseId(productId, 'productId'), quantity, note, actor(context), idempotencyKey),
  adjustStock: (_parent, { productId, delta, reason, note, idempotencyKey }, context) =>
    context.products.adjustStock(parseId(productId, 'productId'), delta, reason, note, actor(context), idempotencyKey),
  openStocktake: (_parent, { category }, context) => context.stocktakes.open(category, actor(context)),
  recordStocktakeCount: (_parent, { stocktakeId, productId, counted }, context) =>
    context.stocktakes.recordCount(
      parseId(stocktakeId, 'stocktakeId'),
      parseId(productId, 'productId'),
      counted,
      actor(context),
    ),
  closeStocktake: (_parent, { id }, context) => context.stocktakes.close(parseId(id), actor(context)),
};
