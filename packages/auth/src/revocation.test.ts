import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisRevocations } from './revocation.js';

const URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const key = `sgtest:${randomUUID().slice(0, 8)}:revoked`;
const logger = { warn: () => {}, info: () => {} };

afterAll(async () => {
  const client = createClient({ url: URL });
  await client.connect();
  await client.del(key);
  await client.close();
});

describe('the revocation list in Redis', () => {
  it('expires with the last token it outlives, so the set does not stay after every entry is stale (issue 28, finding 18)', async () => {
    const list = await createRedisRevocations({ url: URL, key, refreshMs: 60_000, logger });
    const other = await createRedisRevocations({ url: URL, key, refreshMs: 50, logger });
    const client = createClient({ url: URL });
    await client.connect();
    try {
      await list.revoke([randomUUID()], 60);
      // Kept as long as its token can live, plus the clock margin: a key without a TTL stays for ever.
      const first = await client.pTTL(key);
      expect(first).toBeGreaterThan(60_000);
      expect(first).toBeLessThanOrEqual(125_000);
      // A later entry that outlives the others pushes the expiry out; an earlier one does not pull it in.
      await list.revoke([randomUUID()], 600);
      expect(await client.pTTL(key)).toBeGreaterThan(600_000);
      await list.revoke([randomUUID()], 1);
      expect(await client.pTTL(key)).toBeGreaterThan(600_000);
      // Every process reads the entries (the list still works as a list).
      const session = randomUUID();
      await list.revoke([session], 60);
      await expect.poll(() => other.isRevoked(session), { timeout: 5000 }).toBe(true);
    } finally {
      await client.close();
      await list.close();
      await other.close();
    }
  });
});
