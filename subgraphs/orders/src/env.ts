import { parseSubgraphEnv, z } from '@stockgraph/config';

export const DEFAULT_PORT = 4003;

export function parseOrdersEnv(source: NodeJS.ProcessEnv = process.env) {
  return parseSubgraphEnv('orders', DEFAULT_PORT, source, {
    /** How long placeOrder waits for inventory's answer before returning the order PENDING. */
    PLACE_ORDER_WAIT_MS: z.coerce.number().int().min(0).max(30_000).default(2000),
    /** An order PENDING this long asks inventory again (lost messages cost a delay, not a stuck order). */
    SAGA_RETRY_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  });
}

export type OrdersEnv = ReturnType<typeof parseOrdersEnv>;
