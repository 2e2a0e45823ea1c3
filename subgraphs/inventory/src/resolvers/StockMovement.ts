import type { StockMovementResolvers } from '../generated/resolvers.js';

export const StockMovement: StockMovementResolvers = {
  product: async (movement, _args, { loaders }) => {
    const product = await loaders.productById.load(movement.productId);
    // The ledger references products by foreign key, so a missing product is a broken invariant.
    if (!product) throw new Error(`product ${movement.productId} of movement ${movement.id} is missing`);
    return product;
  },
  actor: (movement) => (movement.actorId ? { id: movement.actorId } : null),
};
