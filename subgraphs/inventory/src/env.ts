import { parseSubgraphEnv } from '@stockgraph/config';

export const DEFAULT_PORT = 4002;

/** Inventory needs only the settings every subgraph shares. */
export function parseInventoryEnv(source: NodeJS.ProcessEnv = process.env) {
  return parseSubgraphEnv('inventory', DEFAULT_PORT, source);
}

export type InventoryEnv = ReturnType<typeof parseInventoryEnv>;
