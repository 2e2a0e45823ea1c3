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
