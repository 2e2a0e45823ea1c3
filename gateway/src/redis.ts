import type { Logger } from '@stockgraph/logger';
import { createClient } from 'redis';

/** Kept short: a gateway must come up even when Redis does not. */
const FIRST_CONNECTION_WAIT_MS = 2000;

function open(url: string, logger: Logger) {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 5000) },
  });
  let down = false;
  client.on('error', (error: Error) => {
    // Every reconnection attempt fails the same way; one line per outage is enough.
    if (!down) logger.warn({ err: error, redis: new URL(url).host }, 'redis unavailable; serving without it');
    down = true;
  });
  client.on('ready', () => {
    if (down) logger.info({ redis: new URL(url).host }, 'redis available again');
    down = false;
  });
  return client;
}

/**
 * A Redis client for caches the gateway can do without. It never holds a request up: commands fail
 * at once while Redis is unreachable (no offline queue), and it reconnects in the background, so a
 * Redis outage costs cache hits, not answers. At start it waits briefly for the first connection, so
 * the first requests find Redis, then goes on with or without it.
 */
export async function connectRedis(url: string, logger: Logger, waitMs = FIRST_CONNECTION_WAIT_MS) {
  const client = open(url, logger);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    // Rejected only when the client is closed before it ever connected; the error event logged why.
    client.connect().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, waitMs))),
  ]);
  clearTimeout(timer);
  return client;
}

export type RedisClient = ReturnType<typeof open>;

/** Closes the connection, or stops reconnecting if there is none. */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.isReady) await client.close();
  else client.destroy();
}
