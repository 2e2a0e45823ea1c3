import { randomUUID } from 'node:crypto';
import { startInventory, parseInventoryEnv } from '@stockgraph/inventory';
import { createTestDatabase, createTestKeys, graphql, type TestDatabase } from '@stockgraph/testkit';
import postgres from 'postgres';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOwnRedis } from '@stockgraph/testkit/saga';

/**
 * The catalogue cache across two inventory replicas sharing one Postgres database and one Redis (a
 * private redis-server, so it can be stopped and flushed): A takes the writes, B serves the reads.
 *
 * How long a change may take to show in the other replica before the test fails. The bound the cache
 * promises (about a second) is timed by `pnpm bench:catalogue`; here a loaded machine may take longer,
 * and what the test proves is that the change shows at all well before the entries' TTL (600 s) would
 * have expired them: the invalidation, not the TTL, removed the stale entry.
 */
const SETTLE_MS = 60_000;
/** Polls `read` until it returns `expected`, failing after SETTLE_MS with the last value read. */
const settles = <T>(read: () => Promise<T>, expected: T) =>
  expect.poll(read, { timeout: SETTLE_MS, interval: 100 }).toEqual(expected);
/** The bound for changes made while Redis was down, counted from Redis answering again. */
const OUTAGE_BOUND_MS = 10_000;

const keys = createTestKeys();
let redis: Awaited<ReturnType<typeof startOwnRedis>>;
let database: TestDatabase;
let sql: postgres.Sql;
let a: Awaited<ReturnType<typeof startInventory>>;
let b: Awaited<ReturnType<typeof startInventory>>;
const prefix = `cache-test-${process.pid}-${Date.now()}:`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function start() {
  return startInventory({
    env: parseInventoryEnv({
      DATABASE_URL: database.url,
      SEED_DEMO_DATA: 'true',
      LOG_LEVEL: 'silent',
      PORT: '0',
      JWT_PRIVATE_KEY: keys.pem,
      REDIS_URL: redis.url,
      EVENTS_PREFIX: prefix,
      CATALOGUE_CACHE_TTL_MS: '600000',
    }),
    verifier: keys.verifier,
  });
}

beforeAll(async () => {
  redis = await startOwnRedis();
  database = await createTestDatabase('catalogue-cache');
  sql = postgres(database.url, { max: 2, onnotice: () => {} });
  a = await start();
  b = await start();
}, 60_000);

afterAll(async () => {
  await b?.stop();
  await a?.stop();
  await sql?.end();
  await database?.drop();
  await redis?.remove();
});

const call = async (service: { url: string }, query: string, variables: Record<string, unknown> = {}) => {
  const result = await graphql(service.url, query, variables, await keys.headers('MANAGER'));
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data;
};

const PRODUCT = `query ($id: ID!) { product(id: $id) { id sku unitPrice name onHand available } }`;
const BY_SKU = `query ($sku: String!) { productBySku(sku: $sku) { id unitPrice } }`;
const LIST = `query { products(first: 5) { totalCount edges { node { id sku unitPrice } } } }`;

async function someProduct(offset = 0): Promise<{ id: string; sku: string; unitPrice: string }> {
  const [row] = await sql`select id, sku, unit_price from inventory.products order by sku offset ${offset} limit 1`;
  return { id: row!.id as string, sku: row!.sku as string, unitPrice: row!.unit_price as string };
}

/** Changes a price behind the services' backs: no invalidation, no event. Only a cached read still shows the old one. */
const setPriceInDatabase = (id: string, price: string) =>
  sql`update inventory.products set unit_price = ${price} where id = ${id}`;

async function metricValue(service: { url: string }, kind: string, result: string): Promise<number> {
  const text = await (await fetch(service.url.replace(/\/graphql$/, '/metrics'))).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('stockgraph_catalogue_cache_lookups_total{') &&
        l.includes(`kind="${kind}"`) &&
        l.includes(`result="${result}"`),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('catalogue cache', { timeout: 120_000 }, () => {
  it('serves a product, a SKU lookup and a list page from Redis after the first read', async () => {
    const product = await someProduct(0);
    const first = await call(b, PRODUCT, { id: product.id });
    expect(first.product.unitPrice).toBe(product.unitPrice);
    await call(b, BY_SKU, { sku: product.sku });
    await call(b, LIST);
    await setPriceInDatabase(product.id, '777.00');
    // Still the cached price: these reads did not reach Postgres.
    expect((await call(b, PRODUCT, { id: product.id })).product.unitPrice).toBe(product.unitPrice);
    expect((await call(b, BY_SKU, { sku: product.sku })).productBySku.unitPrice).toBe(product.unitPrice);
    const list = await call(b, LIST);
    expect(list.products.edges.find((e: { node: { id: string } }) => e.node.id === product.id).node.unitPrice).toBe(
      product.unitPrice,
    );
    await setPriceInDatabase(product.id, product.unitPrice);
  });

  it('shows a price changed through the mutation on one replica in the other replica within the bound', async () => {
    const product = await someProduct(1);
    await call(b, PRODUCT, { id: product.id });
    await call(b, LIST);
    const data = await call(
      a,
      `mutation ($id: ID!) { updateProduct(id: $id, input: { unitPrice: "123.45" }) { id } }`,
      {
        id: product.id,
      },
    );
    expect(data.updateProduct.id).toBe(product.id);
    await settles(async () => (await call(b, PRODUCT, { id: product.id })).product.unitPrice, '123.45');
    await settles(async () => (await call(b, BY_SKU, { sku: product.sku })).productBySku.unitPrice, '123.45');
  });

  it('drops a product when its event arrives, whoever committed the change', async () => {
    const product = await someProduct(2);
    await call(b, PRODUCT, { id: product.id });
    await setPriceInDatabase(product.id, '55.55');
    expect((await call(b, PRODUCT, { id: product.id })).product.unitPrice).toBe(product.unitPrice);
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const envelope = {
        id: '0190b3c4-0000-7000-8000-00000000c0de',
        type: 'ProductPriceChanged',
        occurredAt: new Date().toISOString(),
        payload: { productId: product.id, unitPrice: '55.55', priceSince: new Date().toISOString(), $v: 1 },
      };
      await client.xAdd(`${prefix}inventory`, '*', { envelope: JSON.stringify(envelope) });
    } finally {
      await client.quit();
    }
    await settles(async () => (await call(b, PRODUCT, { id: product.id })).product.unitPrice, '55.55');
  });

  it('shows a stock receipt and the list count in the other replica within the bound', async () => {
    const product = await someProduct(3);
    const before = (await call(b, PRODUCT, { id: product.id })).product;
    const listBefore = await call(
      b,
      `query { products(first: 1, filter: { search: "${product.sku}" }) { totalCount } }`,
    );
    expect(listBefore.products.totalCount).toBe(1);
    await call(a, `mutation ($id: ID!) { receiveStock(productId: $id, quantity: 7) { id } }`, { id: product.id });
    await call(
      a,
      `mutation { createProduct(input: { sku: "${product.sku}-NEW", name: "New", unitPrice: "1.00" }) { id } }`,
    );
    await settles(async () => (await call(b, PRODUCT, { id: product.id })).product.onHand, before.onHand + 7);
    await settles(
      async () =>
        (await call(b, `query { products(first: 1, filter: { search: "${product.sku}" }) { totalCount } }`)).products
          .totalCount,
      2,
    );
  });

  it("shows a reservation the saga's consumer committed within the bound after its commit", async () => {
    const [row] =
      await sql`select id, reserved from inventory.products where on_hand - reserved >= 1 order by sku limit 1`;
    const productId = row!.id as string;
    const before = (await call(b, `query ($id: ID!) { product(id: $id) { reserved } }`, { id: productId })).product;
    expect(before.reserved).toBe(row!.reserved);
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const envelope = {
        id: '0190b3c4-0000-7000-8000-00000000feed',
        type: 'OrderPlaced',
        occurredAt: new Date().toISOString(),
        payload: { orderId: '0190b3c4-0000-7000-8000-0000000000f1', items: [{ productId, quantity: 1 }], $v: 1 },
      };
      await client.xAdd(`${prefix}orders`, '*', { envelope: JSON.stringify(envelope) });
    } finally {
      await client.quit();
    }
    const deadline = Date.now() + 15_000;
    while (
      (await sql`select reserved from inventory.products where id = ${productId}`)[0]!.reserved === before.reserved
    ) {
      if (Date.now() > deadline) throw new Error('the reservation was never committed');
      await sleep(50);
    }
    await settles(
      async () =>
        (await call(b, `query ($id: ID!) { product(id: $id) { reserved } }`, { id: productId })).product.reserved,
      before.reserved + 1,
    );
  });

  it('answers correctly after FLUSHALL', async () => {
    const product = await someProduct(4);
    await call(b, PRODUCT, { id: product.id });
    await call(b, LIST);
    const client = createClient({ url: redis.url });
    await client.connect();
    await client.flushAll();
    await client.quit();
    await setPriceInDatabase(product.id, '42.00');
    expect((await call(b, PRODUCT, { id: product.id })).product.unitPrice).toBe('42.00');
    expect((await call(b, BY_SKU, { sku: product.sku })).productBySku.unitPrice).toBe('42.00');
    await call(a, `mutation ($id: ID!) { updateProduct(id: $id, input: { unitPrice: "43.00" }) { id } }`, {
      id: product.id,
    });
    expect((await call(b, PRODUCT, { id: product.id })).product.unitPrice).toBe('43.00');
  });

  it('reads from Postgres while Redis is down, and drops what changed meanwhile once it is back', async () => {
    const product = await someProduct(5);
    await call(b, PRODUCT, { id: product.id });
    await redis.stop();
    try {
      // The database changes behind the cache: with Redis down every read must show it.
      await setPriceInDatabase(product.id, '66.00');
      for (let i = 0; i < 3; i++) expect((await call(b, PRODUCT, { id: product.id })).product.unitPrice).toBe('66.00');
      expect((await call(b, BY_SKU, { sku: product.sku })).productBySku.unitPrice).toBe('66.00');
      expect((await call(b, LIST)).products.totalCount).toBeGreaterThan(0);
      await call(a, `mutation ($id: ID!) { updateProduct(id: $id, input: { unitPrice: "67.00" }) { id } }`, {
        id: product.id,
      });
      expect((await call(b, PRODUCT, { id: product.id })).product.unitPrice).toBe('67.00');
    } finally {
      await redis.start();
    }
    await sleep(OUTAGE_BOUND_MS);
    // The entry cached before the outage (the old price) must not come back.
    expect((await call(b, PRODUCT, { id: product.id })).product.unitPrice).toBe('67.00');
    expect((await call(b, PRODUCT, { id: product.id })).product.unitPrice).toBe('67.00');
    expect(await metricValue(b, 'entity', 'error')).toBeGreaterThan(0);
  }, 60_000);

  it('keeps no keys for products that do not exist or for search pages, however many are asked for (issue 28, finding 15)', async () => {
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const keysNow = async () => (await client.keys(`${prefix}*`)).length;
      // A first ordinary read, so the keys every read needs (the list version) exist before counting.
      await call(b, LIST);
      const before = await keysNow();
      for (let i = 0; i < 60; i++) {
        const missing = await call(b, PRODUCT, { id: randomUUID() });
        expect(missing.product).toBeNull();
        await call(
          b,
          `query ($s: String!) { products(first: 5, filter: { search: $s }) { totalCount edges { node { id } } } }`,
          {
            s: `no-such-thing-${randomUUID()}`,
          },
        );
        await call(b, `query ($c: String!) { products(first: 5, filter: { category: $c }) { totalCount } }`, {
          c: `invented-${randomUUID()}`,
        });
      }
      // Fire-and-forget deletes may still be on their way: give them a moment, then count.
      await settles(keysNow, before);
    } finally {
      await client.quit();
    }
  });

  it('counts hits and misses in /metrics, so the hit ratio is visible', async () => {
    const product = await someProduct(6);
    await call(b, PRODUCT, { id: product.id });
    await call(b, PRODUCT, { id: product.id });
    expect(await metricValue(b, 'entity', 'hit')).toBeGreaterThan(0);
    expect(await metricValue(b, 'entity', 'miss')).toBeGreaterThan(0);
    expect(await metricValue(b, 'list', 'hit')).toBeGreaterThan(0);
  });
});
