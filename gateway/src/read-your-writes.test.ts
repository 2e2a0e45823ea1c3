import { randomUUID } from 'node:crypto';
import { createLogger } from '@stockgraph/logger';
import { freePort } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WriteMarks, sortableLsn } from './read-your-writes.js';
import { closeRedis, connectRedis, type RedisClient } from './redis.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = createLogger('test', 'silent');
const prefix = `sgtest:${randomUUID().slice(0, 8)}:`;
let redis: RedisClient;

beforeAll(async () => {
  redis = await connectRedis(REDIS_URL, logger);
});

afterAll(async () => {
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*` })) if (keys.length > 0) await redis.del(keys);
  await closeRedis(redis);
});

describe('callers’ last writes (read-your-writes at the gateway)', () => {
  it('orders LSNs as strings the way PostgreSQL orders them', () => {
    expect(sortableLsn('16/B374D848')).toBe('00000016/B374D848');
    expect(sortableLsn('0/3015fe0')! < sortableLsn('1/0')!).toBe(true);
    expect(sortableLsn('9/FFFFFFFF')! < sortableLsn('A/0')!).toBe(true);
    expect(sortableLsn('not an lsn')).toBeNull();
  });

  it('shares each user’s highest position per subgraph between gateway replicas, for the TTL', async () => {
    const one = new WriteMarks(redis, prefix, 60_000, logger);
    const other = new WriteMarks(redis, prefix, 60_000, logger);
    const user = randomUUID();
    await one.wrote(user, 'customers', '0/3015FE0');
    await other.wrote(user, 'customers', '0/2000000'); // an older answer arriving late does not go back
    await other.wrote(user, 'orders', 'A/10');
    expect(await other.lastWrites(user)).toEqual({ customers: '00000000/03015FE0', orders: '0000000A/00000010' });
    expect(await one.lastWrites(user)).toEqual({ customers: '00000000/03015FE0', orders: '0000000A/00000010' });
    expect(await one.lastWrites(randomUUID())).toEqual({});
    const ttl = await redis.pTTL(`${prefix}last-writes:${user}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('answers unknown while Redis is unreachable, so reads go to the primaries', async () => {
    const down = await connectRedis(`redis://127.0.0.1:${await freePort()}`, logger, 200);
    try {
      const marks = new WriteMarks(down, prefix, 60_000, logger);
      const user = randomUUID();
      await marks.wrote(user, 'customers', '0/1');
      expect(await marks.lastWrites(user)).toBe('unknown');
    } finally {
      await closeRedis(down);
    }
  });

  it('without Redis (pnpm start), remembers the writes in this process', async () => {
    const marks = new WriteMarks(undefined, prefix, 60_000, logger);
    const user = randomUUID();
    await marks.wrote(user, 'inventory', '1/2');
    expect(await marks.lastWrites(user)).toEqual({ inventory: '00000001/00000002' });
  });
});
