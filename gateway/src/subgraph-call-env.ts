import { z } from '@stockgraph/config';
import type { SubgraphCallSettings } from './subgraph-data-source.js';

/** How the gateway treats a subgraph that is slow or down; see docs/operators/operate.md#outages-and-error-codes. */
export const subgraphCallEnvShape = {
  /** A subgraph request that takes longer is abandoned and its fields answered SUBGRAPH_UNAVAILABLE. */
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** A subgraph's breaker may open once its window has seen this many requests... */
  SUBGRAPH_BREAKER_FAILURES: z.coerce.number().int().min(1).max(10_000).default(5),
  /** ...of which more than this percentage failed (no answer: refused, reset, timed out, 502/503/504). */
  SUBGRAPH_BREAKER_ERROR_PERCENT: z.coerce.number().int().min(1).max(100).default(50),
  /** While open the breaker answers at once; after this long one probe request may try the subgraph. */
  SUBGRAPH_BREAKER_RESET_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** The rolling window the breaker counts requests and failures in. */
  SUBGRAPH_BREAKER_WINDOW_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
};

type SubgraphCallEnv = { [K in keyof typeof subgraphCallEnvShape]: z.infer<(typeof subgraphCallEnvShape)[K]> };

export function subgraphCallSettings(env: SubgraphCallEnv): SubgraphCallSettings {
  return {
    timeoutMs: env.SUBGRAPH_TIMEOUT_MS,
    breakerMinRequests: env.SUBGRAPH_BREAKER_FAILURES,
    breakerErrorPercent: env.SUBGRAPH_BREAKER_ERROR_PERCENT,
    breakerResetMs: env.SUBGRAPH_BREAKER_RESET_MS,
    breakerWindowMs: env.SUBGRAPH_BREAKER_WINDOW_MS,
  };
}
