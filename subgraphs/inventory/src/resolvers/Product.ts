import { BadUserInputError, toConnection, toPage } from '@stockgraph/graphql-kit';
import { isUuid, isUuidV7 } from '@stockgraph/ids';
import type { ProductResolvers } from '../generated/resolvers.js';

export const Product: ProductResolvers = {
  // The gateway may reference a product by either key. A malformed key in a batch of representations
  // is null for that one, not an error for the whole batch.
  __resolveReference: (reference, { loaders }) => {
    if ('id' in reference && typeof reference.id === 'string')
      return isUuid(reference.id) ? loaders.productById.load(reference.id) : null;
    const sku = String((reference as { sku: string }).sku);
    return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(sku) ? loaders.productBySku.load(sku) : null;
  },

  lowStock: (product) => product.available <= product.reorderLevel,

  priceHistory: (product, _args, { loaders }) => loaders.priceHistory.load(product.id),

  movements: async (product, { first, after, since, until }, { loaders }) => {
    const page = toPage({ first, after }, 1, ([id]) => isUuidV7(id ?? ''));
    if (since && until && since > until) throw new BadUserInputError('since must not be after until', 'since');
    const period = since || until ? { since: since ?? null, until: until ?? null } : undefined;
    const rows = await loaders.movementsPage({ page, period: period ?? {} }).load(product.id);
    return { ...toConnection(rows, page, (m) => [m.id]), productId: product.id, period };
  },

  stockAt: (product, { at }, { loaders }) => {
    notInTheFuture(at, 'at');
    // A product created after `at` did not exist then, whatever its ledger says.
    if (product.createdAt > at) return null;
    return loaders.stockAt(at.toISOString()).load(product.id);
  },
};

/** History is asked about the past: a moment still to come has no stock yet. */
export function notInTheFuture(at: Date, argument: string): void {
  if (at.getTime() > Date.now())
    throw new BadUserInputError(`${argument} is in the future; stock is known up to now`, argument);
}
