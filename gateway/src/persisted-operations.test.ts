import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@stockgraph/config';
import { createLogger } from '@stockgraph/logger';
import { afterAll, describe, expect, it } from 'vitest';
import { explorerEnabled, parseGatewayEnv } from './env.js';
import { operationHash, readManifest } from './persisted-operations.js';
import { RedisKeyValueCache } from './redis-cache.js';
import { closeRedis, connectRedis } from './redis.js';

const logger = createLogger('test', 'silent');
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('the persisted-operation manifest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (content: unknown) => {
    const path = join(dir, `${randomBytes(4).toString('hex')}.json`);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };

  it('loads the committed manifest, keyed by the hash clients send', () => {
    const manifest = readManifest(parseGatewayEnv({}).PERSISTED_OPERATIONS_PATH);
    expect(manifest.size).toBeGreaterThanOrEqual(9);
    for (const [hash, document] of manifest) expect(operationHash(document)).toBe(hash);
  });

  it('refuses an entry that is not the hash of its document, a missing file and a wrong shape', () => {
    const good = 'query A { __typename }';
    const tampered = write({ [`sha256:${operationHash(good)}`]: 'query A { __typename me { id } }' });
    expect(() => readManifest(tampered)).toThrow(ConfigError);
    expect(() => readManifest(tampered)).toThrow(/is not the sha256 of its document/);
    expect(() => readManifest(join(dir, 'missing.json'))).toThrow(/cannot read the manifest/);
    expect(() => readManifest(write('[]'))).toThrow(/JSON object of hash → document/);
    expect([...readManifest(write({ [operationHash(good)]: good })).keys()]).toEqual([operationHash(good)]);
  });
});

describe('the Redis APQ store', () => {
  const prefix = `sgtest:${randomBytes(6).toString('hex')}:`;
  const connected = connectRedis(REDIS_URL, logger);
  afterAll(async () => {
    const client = await connected;
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*` })) keys.push(...batch);
    if (keys.length > 0) await client.del(keys);
    await closeRedis(client);
  });

  it('stores under its prefix with the TTL asked for, and deletes', async () => {
    const client = await connected;
    expect(client.isReady).toBe(true);
    const cache = new RedisKeyValueCache(client, prefix, logger);
    await cache.set('a', 'query A { __typename }', { ttl: 60 });
    expect(await cache.get('a')).toBe('query A { __typename }');
    expect(await client.get(`${prefix}a`)).toBe('query A { __typename }');
    const ttl = await client.ttl(`${prefix}a`);
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.delete('a')).toBe(true);
    expect(await cache.get('a')).toBeUndefined();
  });

  it('answers misses at once while Redis is unreachable, and never throws', async () => {
    const unreachable = await connectRedis('redis://127.0.0.1:1', logger, 0);
    try {
      const cache = new RedisKeyValueCache(unreachable, prefix, logger);
      const started = performance.now();
      expect(await cache.get('a')).toBeUndefined();
      await cache.set('a', 'x', { ttl: 60 });
      expect(await cache.delete('a')).toBe(false);
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      await closeRedis(unreachable);
    }
  });
});

describe('gateway settings for clients', () => {
  it('serve the explorer by default outside production, and in production only when asked', () => {
    expect(explorerEnabled(parseGatewayEnv({ NODE_ENV: 'development' }))).toBe(true);
    expect(explorerEnabled(parseGatewayEnv({ NODE_ENV: 'test' }))).toBe(true);
    expect(explorerEnabled(parseGatewayEnv({ NODE_ENV: 'development', EXPLORER_ENABLED: 'false' }))).toBe(false);
    expect(explorerEnabled(parseGatewayEnv({ NODE_ENV: 'development', TRUSTED_DOCUMENTS_ONLY: 'true' }))).toBe(false);
  });

  it('refuse the explorer together with trusted documents only, and a non-Redis REDIS_URL', () => {
    expect(() => parseGatewayEnv({ TRUSTED_DOCUMENTS_ONLY: 'true', EXPLORER_ENABLED: 'true' })).toThrow(
      /EXPLORER_ENABLED: the explorer sends ad-hoc operations/,
    );
    expect(() => parseGatewayEnv({ REDIS_URL: 'http://127.0.0.1:6379' })).toThrow(/REDIS_URL.*redis:\/\//);
    expect(() => parseGatewayEnv({ TRUSTED_DOCUMENTS_ONLY: 'maybe' })).toThrow(/TRUSTED_DOCUMENTS_ONLY/);
    expect(parseGatewayEnv({ TRUSTED_DOCUMENTS_ONLY: 'true' }).TRUSTED_DOCUMENTS_ONLY).toBe(true);
  });
});
