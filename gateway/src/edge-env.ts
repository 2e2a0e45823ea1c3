import { booleanFromEnv, redisUrl, z } from '@stockgraph/config';
const count = (max: number) => z.coerce.number().int().min(1).max(max);

/** The gateway's edge settings: where caches and rate limits live, APQ bounds, rate-limit budgets. */
export const edgeEnvShape = {
  /**
   * Redis for APQ registrations, rate limits and the response cache: a cache, so it may evict (maxmemory-policy
   * allkeys-lru), kept apart from the saga's streams (noeviction). Default: REDIS_URL.
   */
  CACHE_REDIS_URL: redisUrl.optional(),
  /** Largest operation text (bytes) kept as an APQ registration; larger ones run but are not stored. */
  APQ_MAX_DOCUMENT_BYTES: count(1_000_000).default(32_768),
  /** Most APQ registrations kept; a new one beyond it pushes out the oldest. */
  APQ_MAX_ENTRIES: count(10_000_000).default(10_000),
  /** Rate limiting at the gateway; on unless turned off. */
  RATE_LIMIT_ENABLED: booleanFromEnv.default(true),
  /** Length of every rate-limit window. */
  RATE_LIMIT_WINDOW_SECONDS: count(86_400).default(60),
  /**
   * Budget per caller (user, or client address when anonymous) per window, in graphql-armor cost points
   * (the unit of MAX_QUERY_COST). The default comes from the web app's own operations
   * (schema/operations): its busiest screen, order history with the header's `Me`, costs 158 points;
   * loaded once a second for the whole minute that is 9,476, and four times that for margin is about
   * 40,000. A person never meets it; a scraper pulling 100 orders with their lines a request (8,122
   * points) is refused from the fifth request in a minute. tests/edge-http.test.ts shows both.
   */
  RATE_LIMIT_POINTS: count(1_000_000_000).default(40_000),
  /** `login` and `refreshSession` per client address per window. */
  RATE_LIMIT_SIGN_IN: count(1_000_000).default(300),
  /** APQ registrations (operation text with its hash) per caller per window. */
  RATE_LIMIT_APQ_REGISTRATIONS: count(1_000_000).default(300),
};
