import type { Logger } from '@stockgraph/logger';
import { openRedis, type RedisClient } from '@stockgraph/redis';
import { BreakerOpenError, createBreaker } from '@stockgraph/server';

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
 * opens it, and while open every command fails at once (CacheUnavailable) without touching Redis;
 * after BREAKER_OPEN_MS one command tries Redis again and closes it, or opens it for another while.
 * Callers treat any failure as a miss, so an outage costs hits, never answers.
 */
export function createRedisStore(url: string, logger: Logger) {
  const client = open(url, logger);
  client.connect().catch(() => undefined);
  // Any failure opens it, whatever came before (one call in a window of one is all it takes).
  const breaker = createBreaker({ minCalls: 1, failurePercent: 0, windowMs: BREAKER_OPEN_MS, openMs: BREAKER_OPEN_MS });
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
      breaker.trip();
      recovering = true;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async function run<T>(command: (c: RedisClient) => Promise<T>): Promise<T> {
    try {
      return await breaker.run(async () => {
        if (recovering && client.isReady) {
          recovering = false;
          await onRecovered?.();
          if (recovering) throw new CacheUnavailable('catalogue cache still recovering');
        }
        return attempt(command);
      });
    } catch (error) {
      if (error instanceof BreakerOpenError) throw new CacheUnavailable('catalogue cache unavailable');
      throw error;
    }
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
