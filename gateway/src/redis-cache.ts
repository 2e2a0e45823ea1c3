import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { Logger } from '@stockgraph/logger';
import type { RedisClient } from './redis.js';

/** A cache lookup slower than this is a miss: the request goes on without it. */
const COMMAND_TIMEOUT_MS = 250;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`redis did not answer within ${COMMAND_TIMEOUT_MS} ms`)),
      COMMAND_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Apollo's KeyValueCache on Redis, shared by every gateway replica, under `prefix` so several
 * deployments (or test runs) can share one Redis. Errors are misses and lost writes, never failures:
 * what it holds can always be rebuilt.
 */
export class RedisKeyValueCache implements KeyValueCache<string> {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  async get(key: string): Promise<string | undefined> {
    try {
      return (await withTimeout(this.client.get(this.prefix + key))) ?? undefined;
    } catch (error) {
      this.logger.debug({ err: error, key }, 'redis cache read failed; treated as a miss');
      return undefined;
    }
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    const ttl = options?.ttl;
    try {
      await withTimeout(
        this.client.set(this.prefix + key, value, ttl ? { expiration: { type: 'EX', value: Math.ceil(ttl) } } : {}),
      );
    } catch (error) {
      this.logger.debug({ err: error, key }, 'redis cache write failed');
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      return (await withTimeout(this.client.del(this.prefix + key))) > 0;
    } catch (error) {
      this.logger.debug({ err: error, key }, 'redis cache delete failed');
      return false;
    }
  }
}
