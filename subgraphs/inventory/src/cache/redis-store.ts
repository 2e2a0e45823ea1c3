import type { Logger } from '@stockgraph/logger';
import { openRedis, type RedisClient } from '@stockgraph/redis';

/** Longer than a local round trip under load, short enough that a hung Redis costs a request little. */
const COMMAND_TIMEOUT_MS = 150;
/** After a failure Redis is left alone this long: reads go straight to Postgres instead of waiting on it. */
const BREAKER_OPEN_MS = 1000;

export class CacheUnavailable extends Error {}

const open = (url: string, logger: Logger) =>
  openRedis(url, logger, {
    role: 'catalogue cache',
    fallback: 'reading from Postgres',
    connectTimeoutMs: 1000,
    maxBackoffMs: 2000,
  });

/**
 * The cache's connection with a breaker: a command that fails or takes longer than COMMAND_TIMEOUT_MS
 * opens it, and while open every command fails at once (CacheUnavailable) without touching Redis.
 * Callers treat any failure as a miss, so an outage costs hits, never answers.
 */
export function createRedisStore(url: string, logger: Logger) {
  const client = open(url, logger);
  client.connect().catch(() => undefined);
  let openUntil = 0;
  // Set by any failure or dropped connection: before Redis is used again, what could not be done
  // while it was away (invalidations) is done first.
  let recovering = false;
  let onRecovered: (() => Promise<void>) | undefined;
  client.on('error', () => (recovering = true));

  async function attempt<T>(command: (c: RedisClient) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      if (!client.isReady) throw new CacheUnavailable('catalogue cache not connected');
      return await Promise.race([
        command(client),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CacheUnavailable('catalogue cache timed out')), COMMAND_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      openUntil = Date.now() + BREAKER_OPEN_MS;
      recovering = true;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async function run<T>(command: (c: RedisClient) => Promise<T>): Promise<T> {
    if (Date.now() < openUntil) throw new CacheUnavailable('catalogue cache unavailable');
    if (recovering && client.isReady) {
      recovering = false;
      await onRecovered?.();
      if (recovering) throw new CacheUnavailable('catalogue cache still recovering');
    }
    return attempt(command);
  }

  return {
    run,
    /** A command that skips the recovery step (the recovery's own commands). */
    attempt,
    /** Runs before the first command after a failure or a lost connection; its own commands go straight through. */
    set onRecovered(listener: () => Promise<void>) {
      onRecovered = listener;
    },
    async close() {
      if (client.isReady) await client.close();
      else client.destroy();
    },
  };
}

export type RedisStore = ReturnType<typeof createRedisStore>;
