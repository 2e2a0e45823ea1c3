import { toConnection, toPage } from '@stockgraph/graphql-kit';
import type { StocktakeLineResolvers, StocktakeResolvers } from '../generated/resolvers.js';

export const Stocktake: StocktakeResolvers = {
  openedBy: (stocktake) => ({ id: stocktake.openedBy }),
  closedBy: (stocktake) => (stocktake.closedBy ? { id: stocktake.closedBy } : null),
  total: async (stocktake, _args, { loaders }) => (await loaders.stocktakeProgress.load(stocktake.id)).total,
  counted: async (stocktake, _args, { loaders }) => (await loaders.stocktakeProgress.load(stocktake.id)).counted,
  lines: async (stocktake, { first, after, onlyDifferences }, { loaders }) => {
    const page = toPage({ first, after }, 1);
    const rows = await loaders.stocktakes.lines(stocktake, { onlyDifferences: onlyDifferences ?? false }, page);
    return toConnection(rows, page, (line) => [line.sku]);
  },
};

export const StocktakeLine: StocktakeLineResolvers = {
  product: async (line, _args, { loaders }) => {
    const product = await loaders.productById.load(line.productId);
    // Lines reference products by foreign key, so a missing product is a broken invariant.
    if (!product) throw new Error(`product ${line.productId} of stocktake ${line.stocktakeId} is missing`);
    return product;
  },
  countedBy: (line) => (line.countedBy ? { id: line.countedBy } : null),
  difference: (line) => (line.counted === null || line.expected === null ? null : line.counted - line.expected),
};
