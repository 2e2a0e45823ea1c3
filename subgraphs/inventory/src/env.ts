import { catalogueCacheEnvShape, parseSubgraphEnv } from '@stockgraph/config';

export const DEFAULT_PORT = 4002;

/** Inventory's settings: those every subgraph shares, and its catalogue cache's. */
export function parseInventoryEnv(source: NodeJS.ProcessEnv = process.env) {
  return parseSubgraphEnv('inventory', DEFAULT_PORT, source, catalogueCacheEnvShape);
}

export type InventoryEnv = ReturnType<typeof parseInventoryEnv>;
