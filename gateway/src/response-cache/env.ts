import { booleanFromEnv, z } from '@stockgraph/config';
import { DEFAULT_TYPE_POLICIES, parseTypePolicies } from './policy.js';

/** The response cache's settings (docs/operators/operate.md, "Response cache"). */
export const responseCacheEnvShape = {
  /** Serve queries from the response cache and keep their answers; on unless turned off. */
  RESPONSE_CACHE: booleanFromEnv.default(true),
  /**
   * Which types may be cached, for how long (seconds, a backstop: changes drop entries at once) and per
   * role or per user: `Type=seconds[:role|user]`, comma-separated. A query selecting a type not listed
   * is not cached. Default: the catalogue, stock movements and customers per role; orders and users per user.
   */
  RESPONSE_CACHE_TYPES: z
    .string()
    .default(DEFAULT_TYPE_POLICIES)
    .transform((text, ctx) => {
      try {
        return parseTypePolicies(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  /** Answers held in this process besides the cache Redis (0: Redis only). */
  RESPONSE_CACHE_LOCAL_ENTRIES: z.coerce.number().int().min(0).max(1_000_000).default(5000),
  /** Larger answers (JSON characters) are not kept. */
  RESPONSE_CACHE_MAX_ENTRY_BYTES: z.coerce.number().int().min(1024).max(16_777_216).default(262_144),
  /**
   * With read replicas (subgraphs' DATABASE_REPLICA_URLS): set it to their DATABASE_REPLICA_MAX_LAG_MS.
   * An answer fetched within this long after a change of what it holds may come from a replica that has
   * not replayed the change; it is answered but not kept.
   */
  RESPONSE_CACHE_SETTLE_MS: z.coerce.number().int().min(0).max(600_000).default(0),
  /** Identical queries (document, variables, who may see the answer) in flight share one execution. */
  QUERY_DEDUP: booleanFromEnv.default(true),
};
