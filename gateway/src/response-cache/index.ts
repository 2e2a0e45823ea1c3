import type { Logger } from '@stockgraph/logger';
import { Gauge, type Registry } from 'prom-client';
import type { RedisClient } from '../redis.js';
import type { StreamFollower } from '../subscriptions/events.js';
import type { responseCacheEnvShape } from './env.js';
import { INVALIDATING_STREAMS, tagsOfEvent } from './invalidation.js';
import { responseCacheMetrics, responseCachePlugin, type ResponseCacheContext } from './plugin.js';
import { ResponseStore } from './store.js';
import type { z } from '@stockgraph/config';

export { responseCacheEnvShape } from './env.js';

type Env = { [K in keyof typeof responseCacheEnvShape]: z.output<(typeof responseCacheEnvShape)[K]> } & {
  REDIS_KEY_PREFIX: string;
};

/** How long a Redis outage is logged only once. */
const OUTAGE_LOG_MS = 60_000;

/**
 * The response cache, wired: its store on the cache Redis (`redis`; this process alone without it),
 * invalidated by the subgraphs' events as the follower reads them and by mutations answered here.
 */
export async function startResponseCache<TContext extends ResponseCacheContext>(options: {
  env: Env;
  redis: RedisClient | undefined;
  follower: StreamFollower | null;
  registry: Registry;
  logger: Logger;
}) {
  const { env, logger, registry } = options;
  const metrics = responseCacheMetrics(registry);
  let loggedAt = -Infinity;
  const maxAgeMs = Math.max(0, ...[...env.RESPONSE_CACHE_TYPES.values()].map((p) => p.maxAgeSeconds)) * 1000;
  const store = new ResponseStore({
    redis: options.redis,
    keyPrefix: env.REDIS_KEY_PREFIX,
    localEntries: env.RESPONSE_CACHE_LOCAL_ENTRIES,
    maxAgeMs,
    settleMs: env.RESPONSE_CACHE_SETTLE_MS,
    logger,
    events: {
      unavailable() {
        if (Date.now() - loggedAt < OUTAGE_LOG_MS) return;
        loggedAt = Date.now();
        logger.warn('response cache: cache Redis unavailable; answering uncached until it is back');
      },
      invalidated: (tags, source) => metrics.invalidations.inc({ source }, tags),
    },
  });
  new Gauge({
    name: 'stockgraph_response_cache_local_entries',
    help: 'Answers held in this process by the response cache',
    registers: [registry],
    collect() {
      this.set(store.localSize());
    },
  });
  const stops: (() => void)[] = [];
  const { follower } = options;
  // Without the subgraphs' events nothing would drop an answer when its data changes: no cache then.
  const cache = env.RESPONSE_CACHE && follower !== null;
  if (env.RESPONSE_CACHE && !cache)
    logger.info(
      'response cache off: no event bus to invalidate it (set REDIS_URL); identical queries are still shared',
    );
  if (cache) {
    await store.start();
    for (const stream of INVALIDATING_STREAMS) {
      stops.push(
        follower.listen(stream, (entry) => {
          const tags = tagsOfEvent(entry);
          if (tags.length > 0) void store.invalidate(tags, 'event');
        }),
      );
    }
  }
  const plugin = responseCachePlugin<TContext>(
    {
      cache,
      dedup: env.QUERY_DEDUP,
      policies: env.RESPONSE_CACHE_TYPES,
      maxEntryBytes: env.RESPONSE_CACHE_MAX_ENTRY_BYTES,
      store,
    },
    metrics,
  );
  return {
    plugin,
    async close() {
      for (const stop of stops) stop();
      await store.close();
    },
  };
}
