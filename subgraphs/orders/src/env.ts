import { parseSubgraphEnv, z } from '@stockgraph/config';

export const DEFAULT_PORT = 4003;

export function parseOrdersEnv(source: NodeJS.ProcessEnv = process.env) {
  return parseSubgraphEnv('orders', DEFAULT_PORT, source, {
    /** How long placeOrder waits for inventory's answer before returning the order PENDING. */
    PLACE_ORDER_WAIT_MS: z.coerce.number().int().min(0).max(30_000).default(2000),
  });
}

export type OrdersEnv = ReturnType<typeof parseOrdersEnv>;
