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
  it('writes invalidations made while a write is under way together in the next, and loses none', async () => {
    const redis = openRedis(REDIS_URL, logger, { role: 'test', fallback: 'none' });
    await redis.connect();
    const peer = createClient({ url: REDIS_URL });
    await peer.connect();
    const heard: string[][] = [];
    await peer.subscribe(keys.channel, (message) => heard.push((JSON.parse(message) as InvalidationMessage).tags));
    const store = new ResponseStore({
      redis,
      keyPrefix: prefix,
      localEntries: 10,
      maxAgeMs: 60_000,
      logger,
      events: { unavailable: () => {}, invalidated: () => {} },
    });
    await store.start();
    try {
      // As the event follower does with a read's worth of events: one call each, none awaited alone.
      const tags = Array.from({ length: 20 }, (_, i) => `Product:${i}`);
      await Promise.all(tags.map((tag) => store.invalidate([tag], 'event')));
      // Every call has returned, so every tag is in Redis and was announced to the other replicas.
      const times = await redis.mGet(tags.map((tag) => keys.invalidatedAt(tag)));
      expect(times.every((time) => time !== null)).toBe(true);
      await expect.poll(() => heard.flat().sort()).toEqual([...tags].sort());
      // The first call's write, then one for the nineteen that came while it was under way.
      expect(heard.length).toBe(2);
    } finally {
      await store.close();
      await peer.quit();
      redis.destroy();
    }
  });
});
