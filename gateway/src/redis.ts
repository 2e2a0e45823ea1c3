import type { Logger } from '@stockgraph/logger';
import { connectWithin, openRedis, type RedisClient } from '@stockgraph/redis';

export type { RedisClient } from '@stockgraph/redis';

/** Kept short: a gateway must come up even when Redis does not. */
const FIRST_CONNECTION_WAIT_MS = 2000;

/**
 * A Redis client for caches the gateway can do without. It never holds a request up: commands fail
 * at once while Redis is unreachable (no offline queue), and it reconnects in the background, so a
 * Redis outage costs cache hits, not answers. At start it waits briefly for the first connection, so
 * the first requests find Redis, then goes on with or without it.
 */
export async function connectRedis(url: string, logger: Logger, waitMs = FIRST_CONNECTION_WAIT_MS) {
  const client = openRedis(url, logger, { role: 'gateway', fallback: 'serving without it' });
  await connectWithin(client, waitMs);
  return client;
}

/** Closes the connection, or stops reconnecting if there is none. */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.isReady) await client.close();
  else client.destroy();
}

/** A cache command slower than this counts as failed: the request goes on without the cache. */
export const CACHE_COMMAND_TIMEOUT_MS = 250;

/** `promise`, or a rejection once `ms` have passed: caches never hold a request up for long. */
export function withinTimeout<T>(promise: Promise<T>, ms = CACHE_COMMAND_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
