import { toConnection, toPage } from '@stockgraph/graphql-kit';
import { isUuidV7 } from '@stockgraph/ids';
import type { ProductResolvers } from '../generated/resolvers.js';

export const Product: ProductResolvers = {
  // The gateway may reference a product by either key.
  __resolveReference: (reference, { loaders }) =>
    'id' in reference && typeof reference.id === 'string'
      ? loaders.productById.load(reference.id)
      : loaders.productBySku.load(String((reference as { sku: string }).sku)),

  lowStock: (product) => product.available <= product.reorderLevel,

  priceHistory: (product, _args, { loaders }) => loaders.priceHistory.load(product.id),

  movements: async (product, { first, after }, { loaders }) => {
    const page = toPage({ first, after }, 1, ([id]) => isUuidV7(id ?? ''));
    const rows = await loaders.movementsPage(page).load(product.id);
    return { ...toConnection(rows, page, (m) => [m.id]), productId: product.id };
  },
};
