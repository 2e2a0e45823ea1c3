import { createClient } from 'redis';

/** What the connection logs to: a pino logger, or any sink with the same two calls. */
export interface RedisLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export interface RedisOptions {
  /** Who holds the connection and what it does while Redis is away, for the outage's log line. */
  role: string;
  fallback: string;
  connectTimeoutMs?: number;
  /** The longest wait between reconnection attempts; they start at 100 ms and double. */
  maxBackoffMs?: number;
  /** The connection's CLIENT SETNAME, so CLIENT LIST says who waits on what. */
  name?: string;
}

/**
 * Every Redis connection Stockgraph opens (caches, rate limits, revocations, the event bus) behaves the
 * same way while Redis is away: commands fail at once instead of queueing without bound (no offline
 * queue), the client reconnects in the background with exponential backoff, and the log says once that
 * Redis went away and once that it is back, not once per failed attempt. The caller connects.
 */
export function openRedis(url: string, logger: RedisLog, options: RedisOptions) {
  const maxBackoffMs = options.maxBackoffMs ?? 5000;
  const client = createClient({
    url,
    name: options.name,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 2000,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, maxBackoffMs),
    },
  });
  const redis = new URL(url).host;
  let down = false;
  client.on('error', (error: Error) => {
    if (!down) logger.warn({ err: error, redis }, `${options.role}: redis unavailable; ${options.fallback}`);
    down = true;
  });
  client.on('ready', () => {
    if (down) logger.info({ redis }, `${options.role}: redis available again`);
    down = false;
  });
  return client;
}

export type RedisClient = ReturnType<typeof openRedis>;

/**
 * Starts connecting and waits at most `waitMs` for it: a service must come up even when Redis does not,
 * but its first requests should find Redis when it is there. Reconnection goes on in the background.
 */
export async function connectWithin(client: RedisClient, waitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    // Rejected only when the client is closed before it ever connected; the error event logged why.
    client.connect().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, waitMs))),
  ]);
  clearTimeout(timer);
}
