import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { createLogger } from '@stockgraph/logger';
import { dropRedisKeys, REDIS_URL, startOwnRedis } from '@stockgraph/testkit/saga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisClient } from '../gateway/src/redis.js';
import { SharedBudget } from '../gateway/src/shared-budget.js';

// Two gateway replicas' budgets: each its own connection to the real Redis, one key prefix.
const prefix = `sgtest:budget:${randomBytes(4).toString('hex')}:`;
const quiet = createLogger('test', 'silent');
const clients: RedisClient[] = [];
const connect = async (url = REDIS_URL) => {
  const client = await connectRedis(url, quiet, 1000);
  clients.push(client);
  return client;
};
let a: RedisClient;
let b: RedisClient;
const errors: unknown[] = [];
const replica = (client: RedisClient | undefined, limit = 40) =>
  new SharedBudget(limit, 60, client, `${prefix}rl:cost`, (error) => errors.push(error));

/** Spends and reports what was left, or 'refused'. */
const spend = (budget: SharedBudget, key: string, points: number) =>
  budget.consume(key, points).then(
    (result) => result.remainingPoints,
    (refusal: unknown) => {
      // A refusal is rate-limiter-flexible's RateLimiterRes (not an Error), as the plugin expects.
      if (refusal instanceof Error) throw refusal;
      return 'refused' as const;
    },
  );

beforeAll(async () => {
  a = await connect();
  b = await connect();
});

afterAll(async () => {
  await dropRedisKeys(prefix);
  for (const client of clients) client.destroy();
});

describe('a cost budget shared by gateway replicas through Redis', () => {
  it("a caller's first request on a replica finds what the others spent", async () => {
    const [one, two] = [replica(a), replica(b)];
    expect(await spend(one, 'user:1', 4)).toBe(36);
    expect(await spend(two, 'user:1', 4)).toBe(32);
    // Decided locally from here on: the second replica's own view, with its spending added.
    expect(await spend(two, 'user:1', 10)).toBe(22);
  });

  it('writes what each replica spent to Redis, with the window as its expiry', async () => {
    const one = replica(a);
    for (let i = 0; i < 5; i += 1) await spend(one, 'user:2', 3);
    const key = `${prefix}rl:cost:user:2`;
    await expect.poll(async () => Number(await a.get(key)), { timeout: 2000 }).toBe(15);
    const ttl = await a.pTTL(key);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('never lets one replica spend past the limit, however many requests arrive at once', async () => {
    const one = replica(a, 50);
    const outcomes = await Promise.all(Array.from({ length: 100 }, () => spend(one, 'user:3', 1)));
    expect(outcomes.filter((o) => o !== 'refused')).toHaveLength(50);
    await expect.poll(async () => Number(await a.get(`${prefix}rl:cost:user:3`)), { timeout: 2000 }).toBe(50);
  });

  it('two replicas taking turns stop at the limit together', async () => {
    const [one, two] = [replica(a), replica(b)];
    const outcomes = [];
    for (let i = 0; i < 20; i += 1) {
      outcomes.push(await spend(i % 2 ? two : one, 'user:4', 4));
      // Later than a replica's write interval (50 ms): each has written its spending by the next request.
      await delay(60);
    }
    // 40 points at 4 each: ten answers, give or take what one replica had not yet heard of the other.
    const allowed = outcomes.filter((o) => o !== 'refused').length;
    expect(allowed).toBeGreaterThanOrEqual(10);
    expect(allowed).toBeLessThanOrEqual(11);
    expect(outcomes.slice(-4)).toEqual(['refused', 'refused', 'refused', 'refused']);
  });

  it('keeps callers apart', async () => {
    const one = replica(a, 10);
    expect(await spend(one, 'user:5', 10)).toBe(0);
    expect(await spend(one, 'user:5', 1)).toBe('refused');
    expect(await spend(one, 'ip:203.0.113.5', 1)).toBe(9);
  });

  it('adds what a replica spent while Redis was away once it answers again', async () => {
    const own = await startOwnRedis();
    try {
      const client = await connect(own.url);
      const one = replica(client, 100);
      expect(await spend(one, 'user:7', 10)).toBe(90);
      await own.stop();
      await expect.poll(() => client.isReady, { timeout: 5000 }).toBe(false);
      // Decided here, exactly, meanwhile.
      expect(await spend(one, 'user:7', 20)).toBe(70);
      await own.start();
      await expect.poll(() => client.isReady, { timeout: 10_000 }).toBe(true);
      expect(await spend(one, 'user:7', 5)).toBe(65);
      // Redis kept the first 10 (append-only file) and now holds all that was spent.
      await expect.poll(async () => Number(await client.get(`${prefix}rl:cost:user:7`)), { timeout: 2000 }).toBe(35);
    } finally {
      await own.remove();
    }
  });

  it('counts alone, exactly, while Redis cannot be reached, and without Redis at all', async () => {
    // A port nothing listens on: the client never becomes ready.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const away = await connect(`redis://127.0.0.1:${port}`);
    for (const budget of [replica(away, 12), replica(undefined, 12)]) {
      const outcomes = [];
      for (let i = 0; i < 5; i += 1) outcomes.push(await spend(budget, 'user:6', 4));
      expect(outcomes).toEqual([8, 4, 0, 'refused', 'refused']);
    }
  });
});
