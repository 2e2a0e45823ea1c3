import { BadUserInputError, parseId, toConnection, toPage } from '@stockgraph/graphql-kit';
import { isUuidV7 } from '@stockgraph/ids';
import type { QueryResolvers } from '../generated/resolvers.js';
import { notInTheFuture } from './Product.js';

const MAX_TEXT = 200;

function limitText(value: string | null | undefined, argument: string): void {
  if (value && value.length > MAX_TEXT)
    throw new BadUserInputError(`${argument} is limited to ${MAX_TEXT} characters`, argument);
}

export const Query: QueryResolvers = {
  product: (_parent, { id }, { loaders }) => loaders.productById.load(parseId(id)),

  // Ledger ids are UUIDv7 (their time names the partition); any other id names no movement.
  stockMovement: (_parent, { id }, { loaders }) => {
    const movementId = parseId(id);
    return isUuidV7(movementId) ? loaders.movementById.load(movementId) : null;
  },

  productBySku: (_parent, { sku }, { loaders }) => {
    limitText(sku, 'sku');
    return loaders.productBySku.load(sku);
  },

  products: async (_parent, { filter, first, after }, { loaders }) => {
    limitText(filter?.search, 'filter.search');
    limitText(filter?.category, 'filter.category');
    const page = toPage({ first, after }, 1);
    const normalized = {
      search: filter?.search ?? null,
      category: filter?.category ?? null,
      lowStock: filter?.lowStock ?? null,
    };
    const rows = await loaders.productList(normalized, page);
    return { ...toConnection(rows, page, (p) => [p.sku]), filter: normalized };
  },

  stockValuation: (_parent, { at, category }, { loaders }) => {
    notInTheFuture(at, 'at');
    limitText(category, 'category');
    return loaders.stockValuation(at, category ?? null);
  },

  stocktake: (_parent, { id }, { loaders }) => loaders.stocktakeById.load(parseId(id)),

  stocktakes: async (_parent, { status, first, after }, { loaders }) => {
    const page = toPage({ first, after }, 1, ([id]) => isUuidV7(id!));
    const rows = await loaders.stocktakes.list(status ?? null, page);
    return toConnection(rows, page, (s) => [s.id]);
  },
};
