import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  execute,
  graphql,
  persistedHash,
  persistedRequest,
  post,
  startStack,
  type ServiceProcess,
  type Stack,
} from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CustomerByPhoneDocument,
  CustomerOrdersDocument,
  DashboardDocument,
  MeDocument,
  OrderDetailDocument,
  OrderHistoryDocument,
  PlaceOrderDocument,
  ProductCatalogueDocument,
  ProductDetailDocument,
  StockBySkuDocument,
} from '../schema/generated/graphql.js';

/**
 * Persisted operations through real gateways on the same subgraphs: the stack's own gateway keeps
 * automatically persisted queries in its memory, two more share them through the machine's Redis
 * (under a key prefix of this run, removed afterwards), and one runs only the manifest's operations.
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `sgtest:${randomBytes(6).toString('hex')}:`;
const redis = (...args: string[]) => execFileSync('redis-cli', ['-u', REDIS_URL, ...args], { encoding: 'utf8' }).trim();

let stack: Stack;
let memory: ServiceProcess;
let redisA: ServiceProcess;
let redisB: ServiceProcess;
let trusted: ServiceProcess;
let auth: Record<string, string>;

beforeAll(async () => {
  stack = await startStack();
  memory = stack.gateway;
  [redisA, redisB, trusted] = await Promise.all([
    stack.startGateway({ REDIS_URL, REDIS_KEY_PREFIX: prefix }),
    stack.startGateway({ REDIS_URL, REDIS_KEY_PREFIX: prefix }),
    stack.startGateway({ TRUSTED_DOCUMENTS_ONLY: 'true' }),
  ]);
  // The dashboard's stats are for managers; every other shipped operation is allowed to them too.
  auth = await stack.as('MANAGER');
});

afterAll(async () => {
  await stack?.stop();
  const keys = redis('--scan', '--pattern', `${prefix}*`).split('\n').filter(Boolean);
  if (keys.length > 0) redis('del', ...keys);
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** An operation no client ships, different on every call, so no gateway has seen it. */
function adHocOperation() {
  const query = `query Probe${randomBytes(4).toString('hex')} { products(first: 2) { totalCount edges { node { sku } } } }`;
  return { query, hash: sha256(query) };
}

describe('shipped operations', () => {
  it('all run by their manifest hash alone, typed by the generated documents', async () => {
    const catalogue = await execute(
      memory.url,
      ProductCatalogueDocument,
      { first: 5, filter: { lowStock: false } },
      auth,
    );
    expect(catalogue.errors).toBeUndefined();
    const products = catalogue.data!.products!.edges.map((e) => e.node);
    expect(products).toHaveLength(5);
    expect(products.every((p) => !p.lowStock)).toBe(true);
    const next = await execute(
      memory.url,
      ProductCatalogueDocument,
      { first: 5, after: catalogue.data!.products!.pageInfo.endCursor },
      auth,
    );
    expect(next.data!.products!.edges[0]!.node.sku > products[4]!.sku).toBe(true);

    const stock = await execute(memory.url, StockBySkuDocument, { sku: products[0]!.sku }, auth);
    expect(stock.data?.productBySku).toMatchObject({ id: products[0]!.id, available: expect.any(Number) });
    const detail = await execute(memory.url, ProductDetailDocument, { id: products[0]!.id }, auth);
    expect(detail.errors).toBeUndefined();
    expect(detail.data?.product?.priceHistory.length).toBeGreaterThan(0);

    const history = await execute(
      memory.url,
      OrderHistoryDocument,
      { first: 3, filter: { status: 'FULFILLED' } },
      auth,
    );
    expect(history.errors).toBeUndefined();
    const order = history.data!.orders!.edges[0]!.node;
    expect(order.status).toBe('FULFILLED');
    const orderDetail = await execute(memory.url, OrderDetailDocument, { id: order.id }, auth);
    expect(orderDetail.data?.order).toMatchObject({ number: order.number, customer: { id: order.customer!.id } });
    const customerOrders = await execute(
      memory.url,
      CustomerOrdersDocument,
      { customerId: order.customer!.id, first: 2 },
      auth,
    );
    expect(customerOrders.data?.customer?.orders?.totalCount).toBeGreaterThan(0);

    const customers = (await graphql(memory.url, '{ customers(first: 20) { edges { node { id phone } } } }', {}, auth))
      .data.customers.edges;
    const caller = customers
      .map((e: { node: { id: string; phone: string | null } }) => e.node)
      .find((c: { phone: string | null }) => c.phone);
    const byPhone = await execute(memory.url, CustomerByPhoneDocument, { phone: caller.phone }, auth);
    expect(byPhone.data?.customerByPhone?.id).toBe(caller.id);

    const to = new Date();
    const from = new Date(to.getTime() - 30 * 86_400_000);
    const dashboard = await execute(
      memory.url,
      DashboardDocument,
      { from: from.toISOString(), to: to.toISOString(), interval: 'WEEK' },
      auth,
    );
    expect(dashboard.errors).toBeUndefined();
    expect(dashboard.data!.orderStats!.length).toBeGreaterThanOrEqual(4);
    expect(dashboard.data!.lowStock!.edges.every((e) => e.node.lowStock)).toBe(true);

    const me = await execute(memory.url, MeDocument, {}, auth);
    expect(me.data?.me).toMatchObject({ email: 'manager@stockgraph.local', role: 'MANAGER' });
  });

  it('place an order by hash, and a retry with the same idempotency key gets the same order', async () => {
    const catalogue = await execute(
      memory.url,
      ProductCatalogueDocument,
      { first: 20, filter: { lowStock: false } },
      auth,
    );
    const product = catalogue.data!.products!.edges.map((e) => e.node).find((p) => p.available > 2)!;
    const customerId = (await execute(memory.url, OrderHistoryDocument, { first: 1 }, auth)).data!.orders!.edges[0]!
      .node.customer!.id;
    const input = { customerId, items: [{ productId: product.id, quantity: 1 }], idempotencyKey: randomUUID() };
    const placed = await execute(memory.url, PlaceOrderDocument, { input }, auth);
    expect(placed.errors).toBeUndefined();
    expect(placed.data!.placeOrder).toMatchObject({
      customer: { id: customerId },
      items: [{ quantity: 1, product: { id: product.id } }],
    });
    const retried = await execute(redisA.url, PlaceOrderDocument, { input }, auth);
    expect(retried.data!.placeOrder.id).toBe(placed.data!.placeOrder.id);
  });

  it('have manifest hashes that are the sha256 of their documents, as APQ clients compute them', () => {
    const manifest = JSON.parse(readFileSync('schema/generated/persisted-documents.json', 'utf8')) as Record<
      string,
      string
    >;
    // The web app's 15 queries and mutations (stock history's two included), the handhelds' 4 for
    // stocktakes and their offline batch, and the 4 subscriptions (live-updates.graphql).
    expect(Object.keys(manifest)).toHaveLength(24);
    for (const [key, document] of Object.entries(manifest)) expect(key).toBe(`sha256:${sha256(document)}`);
    expect(manifest[`sha256:${persistedHash(MeDocument)}`]).toMatch(/^query Me /);
  });
});

describe('automatic persisted queries', () => {
  it('register with the text once, then run by hash (in-process store)', async () => {
    const { query, hash } = adHocOperation();
    const unknown = await post(memory.url, persistedRequest(hash), auth);
    expect(unknown.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const registered = await post(memory.url, { query, ...persistedRequest(hash) }, auth);
    expect(registered.errors).toBeUndefined();
    const reused = await post(memory.url, persistedRequest(hash), auth);
    expect(reused.data).toEqual(registered.data);
  });

  it('keep no registration from a caller who is not signed in, in any store (issue 28, finding 14)', async () => {
    for (const gateway of [memory, redisA]) {
      // What an anonymous caller can run: a sign-in, with the password written into the text.
      const query = `mutation SignIn { login(email: "viewer@stockgraph.local", password: "stockgraph") { expiresAt } } # ${randomUUID()}`;
      const hash = sha256(query);
      const registered = await post(gateway.url, { query, ...persistedRequest(hash) });
      expect(registered.data).toMatchObject({ login: { expiresAt: expect.any(String) } });
      // Nobody may replay it by its hash: not the same caller, not anyone signed in.
      for (const headers of [{}, auth]) {
        const replay = await post(gateway.url, persistedRequest(hash), headers);
        expect(replay.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      }
    }
  });

  it('refuse a text whose hash does not match', async () => {
    const { query } = adHocOperation();
    const result = await post(memory.url, { query, ...persistedRequest(sha256('something else')) }, auth);
    expect(result.status).toBe(400);
    expect(result.data).toBeUndefined();
  });

  it('are shared by every gateway on the same Redis, and only by those', async () => {
    const { query, hash } = adHocOperation();
    expect((await post(redisA.url, { query, ...persistedRequest(hash) }, auth)).errors).toBeUndefined();
    expect(redis('get', `${prefix}apq:${hash}`)).toBe(query);
    const ttl = Number(redis('ttl', `${prefix}apq:${hash}`));
    expect(ttl).toBeGreaterThan(23 * 3600);
    const elsewhere = await post(redisB.url, persistedRequest(hash), auth);
    expect(elsewhere.errors).toBeUndefined();
    expect(elsewhere.data).toMatchObject({ products: { totalCount: expect.any(Number) } });
    expect((await post(memory.url, persistedRequest(hash), auth)).errors?.[0]?.extensions?.code).toBe(
      'PERSISTED_QUERY_NOT_FOUND',
    );
  });

  it('keep working on a gateway whose Redis is unreachable', async () => {
    const stranded = await stack.startGateway({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_KEY_PREFIX: prefix });
    try {
      expect((await execute(stranded.url, StockBySkuDocument, { sku: 'ELE-0001' }, auth)).data?.productBySku?.sku).toBe(
        'ELE-0001',
      );
      const { query, hash } = adHocOperation();
      expect((await post(stranded.url, { query, ...persistedRequest(hash) }, auth)).errors).toBeUndefined();
      // Not shared, but Apollo's own per-process cache still holds it.
      expect((await post(stranded.url, persistedRequest(hash), auth)).errors).toBeUndefined();
    } finally {
      await stranded.stop();
    }
  });

  it('take manifest operations by hash without registration, and never copy them to Redis', async () => {
    const result = await execute(redisB.url, StockBySkuDocument, { sku: 'NOPE-0000' }, auth);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ productBySku: null });
    expect(redis('exists', `${prefix}apq:${persistedHash(StockBySkuDocument)}`)).toBe('0');
  });
});

describe('trusted documents only', () => {
  const refused = (result: { status: number; data?: unknown; errors?: { extensions?: { code?: string } }[] }) => {
    expect(result.status).toBe(400);
    expect(result.data).toBeUndefined();
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['OPERATION_NOT_TRUSTED']);
  };

  it('runs the manifest operations, by hash or by their exact text', async () => {
    const byHash = await execute(trusted.url, MeDocument, {}, auth);
    expect(byHash.data?.me?.role).toBe('MANAGER');
    const manifest = JSON.parse(readFileSync('schema/generated/persisted-documents.json', 'utf8')) as Record<
      string,
      string
    >;
    const text = manifest[`sha256:${persistedHash(MeDocument)}`]!;
    expect((await graphql(trusted.url, text, {}, auth)).data).toEqual(byHash.data);
  });

  it('refuses any other operation with OPERATION_NOT_TRUSTED, before parsing it', async () => {
    const { query, hash } = adHocOperation();
    refused(await graphql(trusted.url, query, {}, auth));
    refused(await post(trusted.url, { query, ...persistedRequest(hash) }, auth));
    refused(await post(trusted.url, persistedRequest(hash), auth));
    // Not even a syntax or validation error, which would tell an attacker about the schema.
    refused(await graphql(trusted.url, '{ produts { edges { node { costPrice } } }', {}, auth));
    refused(await graphql(trusted.url, '{ __schema { types { name } } }'));
    const message = (await graphql(trusted.url, query, {}, auth)).errors![0]!.message;
    expect(message).toMatch(/persisted-operation manifest/);
  });

  it('serves no explorer', async () => {
    expect((await fetch(new URL('/', trusted.url))).status).toBe(404);
  });
});
