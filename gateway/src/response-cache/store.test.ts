import { randomUUID } from 'node:crypto';
import { responseCacheKeys, type InvalidationMessage } from '@stockgraph/contracts';
import { createLogger } from '@stockgraph/logger';
import { openRedis } from '@stockgraph/redis';
import { dropRedisKeys, REDIS_URL } from '@stockgraph/testkit/saga';
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { ResponseStore } from './store.js';

const prefix = `sgtest:${randomUUID().slice(0, 8)}:`;
const keys = responseCacheKeys(prefix);
const logger = createLogger('store-test', 'silent');
afterAll(() => dropRedisKeys(prefix));

describe('the response store on Redis', () => {
  async function connect() {
    const redis = openRedis(REDIS_URL, logger, { role: 'test', fallback: 'none' });
    await redis.connect();
    const peer = createClient({ url: REDIS_URL });
    await peer.connect();
    const heard: string[][] = [];
    await peer.subscribe(keys.channel, (message) => heard.push((JSON.parse(message) as InvalidationMessage).tags));
    return { redis, peer, heard };
  }

  function storeOn(redis: ReturnType<typeof openRedis>, eventFlushMs?: number) {
    return new ResponseStore({
      redis,
      keyPrefix: prefix,
      localEntries: 10,
      maxAgeMs: 60_000,
      logger,
      events: { unavailable: () => {}, invalidated: () => {} },
      eventFlushMs,
    });
  }

  it('writes the invalidations of events read together in one write, and loses none', async () => {
    const { redis, peer, heard } = await connect();
    const store = storeOn(redis);
    await store.start();
    try {
      // As the event follower does with a read's worth of events: one call each, none awaited alone.
      const tags = Array.from({ length: 20 }, (_, i) => `Product:${i}`);
      await Promise.all(tags.map((tag) => store.invalidate([tag], 'event')));
      // Every call has returned, so every tag is in Redis and was announced to the other replicas.
      const times = await redis.mGet(tags.map((tag) => keys.invalidatedAt(tag)));
      expect(times.every((time) => time !== null)).toBe(true);
      await expect.poll(() => heard.flat().sort()).toEqual([...tags].sort());
      // One write for the twenty (one per call, or two with only the write in flight shared, before).
      expect(heard.length).toBe(1);
    } finally {
      await store.close();
      await peer.quit();
      redis.destroy();
    }
  });

  it("writes a mutation's invalidation at once, taking the events' waiting ones with it", async () => {
    const { redis, peer, heard } = await connect();
    // Events wait a minute here: only the mutation's write can have carried theirs.
    const store = storeOn(redis, 60_000);
    await store.start();
    try {
      const event = store.invalidate(['Order:event'], 'event');
      await store.invalidate(['Order:mutation'], 'mutation');
      const times = await redis.mGet([keys.invalidatedAt('Order:event'), keys.invalidatedAt('Order:mutation')]);
      expect(times.every((time) => time !== null)).toBe(true);
      await expect.poll(() => heard).toEqual([['Order:event', 'Order:mutation']]);
      // Closing does not wait the minute out.
      await store.close();
      await event;
    } finally {
      await store.close();
      await peer.quit();
      redis.destroy();
    }
  });
});
