import { parseEnv, redisUrl, z } from '@stockgraph/config';
import { EVERY_ANSWER, responseCacheKeys, type InvalidationMessage } from '@stockgraph/contracts';
import { connectWithin, openRedis } from '@stockgraph/redis';

/** Where the gateways keep their response cache: the same variables the gateway reads. */
export const responseCacheTargetEnvShape = {
  CACHE_REDIS_URL: redisUrl.optional(),
  REDIS_URL: redisUrl.optional(),
  REDIS_KEY_PREFIX: z.string().min(1).max(100).default('stockgraph:'),
};

/** Longer than any cached answer lives (RESPONSE_CACHE_TYPES allows a day) and its settle time. */
const REMEMBER_MS = 25 * 60 * 60 * 1000;
const CONNECT_WAIT_MS = 2000;

export type DropOutcome = { dropped: true } | { dropped: false; reason: string };

/**
 * Tells every gateway that all its cached answers are stale: what the operator tools call after
 * changing the tables around the services (an import or sync, an aggregate rebuild, archiving), which
 * publish no event for the cache to follow. Without a Redis there is no shared cache to tell (a
 * gateway without one keeps no cache across processes); an unreachable one is reported, not thrown:
 * the change is made, and the answers go stale only until they expire.
 */
export async function dropCachedAnswers(source: NodeJS.ProcessEnv = process.env): Promise<DropOutcome> {
  const env = parseEnv('stockgraph', responseCacheTargetEnvShape, source);
  const url = env.CACHE_REDIS_URL ?? env.REDIS_URL;
  if (!url) return { dropped: false, reason: 'no CACHE_REDIS_URL or REDIS_URL: no shared response cache to drop' };
  const quiet = { warn: () => {}, info: () => {} };
  const client = openRedis(url, quiet, { role: 'stockgraph', fallback: 'cached answers not dropped' });
  try {
    await connectWithin(client, CONNECT_WAIT_MS);
    if (!client.isReady) return { dropped: false, reason: `the cache Redis (${new URL(url).host}) did not answer` };
    const keys = responseCacheKeys(env.REDIS_KEY_PREFIX);
    const message: InvalidationMessage = { from: 'stockgraph-cli', tags: [EVERY_ANSWER] };
    await client
      .multi()
      .set(keys.invalidatedAt(EVERY_ANSWER), String(Date.now()), { expiration: { type: 'PX', value: REMEMBER_MS } })
      .publish(keys.channel, JSON.stringify(message))
      .exec();
    return { dropped: true };
  } catch (error) {
    return { dropped: false, reason: (error as Error).message };
  } finally {
    if (client.isReady) await client.close();
    else client.destroy();
  }
}
