import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { Logger } from '@stockgraph/logger';
import { withinTimeout, type RedisClient } from './redis.js';

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
      return (await withinTimeout(this.client.get(this.prefix + key))) ?? undefined;
    } catch (error) {
      this.logger.debug({ err: error, key }, 'redis cache read failed; treated as a miss');
      return undefined;
    }
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    const ttl = options?.ttl;
    try {
      await withinTimeout(
        this.client.set(this.prefix + key, value, ttl ? { expiration: { type: 'EX', value: Math.ceil(ttl) } } : {}),
      );
    } catch (error) {
      this.logger.debug({ err: error, key }, 'redis cache write failed');
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      return (await withinTimeout(this.client.del(this.prefix + key))) > 0;
    } catch (error) {
      this.logger.debug({ err: error, key }, 'redis cache delete failed');
      return false;
    }
  }
}
