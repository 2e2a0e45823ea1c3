import { InMemoryLRUCache, type KeyValueCache, type KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { Logger } from '@stockgraph/logger';
import { RedisKeyValueCache } from './redis-cache.js';
import type { RedisClient } from './redis.js';

/**
 * Stores a registration and keeps the number of registrations bounded, in one atomic step: every key
 * is indexed in a sorted set by registration time; expired ones leave the index, and when there are
 * more than the cap the oldest are dropped. (The keys it deletes are read from the index, so this
 * script is for one Redis, not a cluster.)
 */
const SET_BOUNDED = `
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], KEYS[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[3]) - tonumber(ARGV[2]) * 1000)
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if over > 0 then
  local oldest = redis.call('ZPOPMIN', KEYS[2], over)
  for i = 1, #oldest, 2 do redis.call('DEL', oldest[i]) end
end
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]) * 1000)
return over
`;

/**
 * The APQ store on Redis with a cap on entries: registrations beyond `maxEntries` push out the oldest,
 * so the keyspace they take is bounded whatever callers register (issue 8, finding 2).
 */
export class BoundedRedisStore implements KeyValueCache<string> {
  private readonly reader: RedisKeyValueCache;
  /**
   * Registrations Redis could not take, kept in this process so its clients keep working while Redis is
   * away (the registrations are the same ones: signed-in callers' only, as the plugin decides).
   */
  private readonly stranded: InMemoryLRUCache<string>;

  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
    private readonly maxEntries: number,
    private readonly logger: Logger,
  ) {
    this.reader = new RedisKeyValueCache(client, prefix, logger);
    this.stranded = inProcessStore(maxEntries);
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.reader.get(key)) ?? (await this.stranded.get(key));
  }

  async delete(key: string): Promise<boolean> {
    const [shared, local] = await Promise.all([this.reader.delete(key), this.stranded.delete(key)]);
    return shared || local;
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    const ttl = Math.ceil(options?.ttl ?? 24 * 60 * 60);
    try {
      await this.client.eval(SET_BOUNDED, {
        keys: [this.prefix + key, `${this.prefix.replace(/:$/, '')}-index`],
        arguments: [value, String(ttl), String(Date.now()), String(this.maxEntries)],
      });
    } catch (error) {
      this.logger.debug({ err: error }, 'APQ registration not stored in Redis; kept in this process');
      await this.stranded.set(key, value, { ttl });
    }
  }
}

/** Registrations in this process's memory, bounded in bytes and entries. */
export function inProcessStore(maxEntries: number): InMemoryLRUCache<string> {
  return new InMemoryLRUCache<string>({ maxSize: 30 * 1024 * 1024, max: maxEntries, sizeCalculation: (d) => d.length });
}

/**
 * Apollo Server's own APQ cache, which stores every registration it verifies, anonymous ones and their
 * literal arguments included. The gateway's plugin is the only store (signed-in callers' registrations,
 * after authorization), so Apollo gets one that keeps nothing: it still checks a text against its hash
 * and answers PERSISTED_QUERY_NOT_FOUND for a hash the plugin could not resolve.
 */
export const KEEPS_NOTHING: KeyValueCache<string> = {
  get: async () => undefined,
  set: async () => {},
  delete: async () => false,
};
