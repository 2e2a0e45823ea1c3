import { createHash, randomUUID } from 'node:crypto';
import { graphql, post, type ServiceProcess } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChecker } from './cli-support.js';
import { allExpressions, exposedNames, metricNames } from './observability-support.js';
import { dropRedisKeys, placeOrder, productWithStock, startSagaStack } from '@stockgraph/testkit/saga';

/**
 * The metrics of issue 13 moving as they should, on real processes (Postgres, Redis Streams), each
 * service serving /metrics on its own METRICS_PORT: the saga's counters and decision time after a
 * placeOrder through the gateway, denials by rule, cache hits, and no id in any label.
 */
let stack: Awaited<ReturnType<typeof startSagaStack>>['stack'];
let prefix: string;
let services: Record<string, ServiceProcess>;

beforeAll(async () => {
  ({ stack, prefix } = await startSagaStack({ METRICS_PORT: '0' }));
  services = { gateway: stack.gateway, ...stack.subgraphs };
}, 420_000);

afterAll(async () => {
  await stack?.stop();
  if (prefix) await dropRedisKeys(prefix);
});

function metricsUrl(service: ServiceProcess): string {
  const line = service.output.find((l) => l.includes('"metricsUrl"'));
  if (!line) throw new Error('the service did not log its metricsUrl');
  return (JSON.parse(line) as { metricsUrl: string }).metricsUrl;
}

async function scrape(service: ServiceProcess): Promise<string> {
  return (await fetch(metricsUrl(service))).text();
}

/** Sum of a metric's samples whose labels include every `labels` pair. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
    .reduce((sum, l) => sum + Number(l.trim().split(/\s+/).at(-1)), 0);
}

async function read(service: ServiceProcess, name: string, labels: Record<string, string> = {}) {
  return sample(await scrape(service), name, labels);
}

/** Polls until `check` holds: a counter moved by a consumer moves a moment after the answer. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe('metrics', () => {
  it('every service serves /metrics on METRICS_PORT and not on its service port', async () => {
    for (const [name, service] of Object.entries(services)) {
      expect((await fetch(new URL('/metrics', service.url))).status, name).toBe(404);
      const text = await scrape(service);
      expect(text, name).toContain(`stockgraph_graphql_requests_total`);
      expect(text, name).toContain(`service="${name}"`);
    }
  });

  it('a placeOrder through the gateway moves placed, decided and the decision time', async () => {
    const staff = await stack.as('STAFF');
    const productId = await productWithStock(stack, 5);
    const orders = stack.subgraphs.orders;
    const before = await scrape(orders);
    const gatewayBefore = await scrape(stack.gateway);

    const confirmed = await placeOrder(stack, staff, [{ productId, quantity: 2 }]);
    expect(confirmed.data.placeOrder.status).toBe('CONFIRMED');
    const rejected = await placeOrder(stack, staff, [{ productId, quantity: 50 }]);
    expect(rejected.data.placeOrder.status).toBe('REJECTED');

    const moved = (text: string, name: string, labels: Record<string, string> = {}) =>
      sample(text, name, labels) - sample(before, name, labels);
    await eventually(async () => {
      const text = await scrape(orders);
      return moved(text, 'stockgraph_orders_decided_total') >= 2;
    }, 'both decisions counted');
    const after = await scrape(orders);
    expect(moved(after, 'stockgraph_orders_placed_total')).toBe(2);
    expect(moved(after, 'stockgraph_orders_decided_total', { outcome: 'confirmed' })).toBe(1);
    expect(moved(after, 'stockgraph_orders_decided_total', { outcome: 'rejected' })).toBe(1);
    expect(moved(after, 'stockgraph_order_decision_seconds_count', { outcome: 'confirmed' })).toBe(1);
    expect(moved(after, 'stockgraph_order_decision_seconds_count', { outcome: 'rejected' })).toBe(1);
    // placeOrder ran SQL on orders (one statement each, issue 25), counted against its operation label.
    expect(moved(after, 'stockgraph_sql_statements_per_operation_count', { operation: 'mutation.placeOrder' })).toBe(2);
    expect(
      moved(after, 'stockgraph_sql_statements_per_operation_sum', { operation: 'mutation.placeOrder' }),
    ).toBeGreaterThanOrEqual(2);

    // Retrying with the same idempotency key places nothing new.
    const key = randomUUID();
    await placeOrder(stack, staff, [{ productId, quantity: 1 }], key);
    const once = await read(orders, 'stockgraph_orders_placed_total');
    await placeOrder(stack, staff, [{ productId, quantity: 1 }], key);
    expect(await read(orders, 'stockgraph_orders_placed_total')).toBe(once);

    // The gateway's fetches to orders were counted, ok, and timed.
    const gateway = await scrape(stack.gateway);
    const fetched = (name: string, labels: Record<string, string>) =>
      sample(gateway, name, labels) - sample(gatewayBefore, name, labels);
    expect(fetched('stockgraph_subgraph_requests_total', { subgraph: 'orders', outcome: 'ok' })).toBeGreaterThanOrEqual(
      2,
    );
    expect(
      fetched('stockgraph_subgraph_request_duration_seconds_count', { subgraph: 'orders' }),
    ).toBeGreaterThanOrEqual(2);
  });

  it('the saga gauges report the outbox, the consumer groups, PENDING orders and the pool', async () => {
    const orders = await scrape(stack.subgraphs.orders);
    expect(sample(orders, 'stockgraph_outbox_lag')).toBeGreaterThanOrEqual(0);
    expect(sample(orders, 'stockgraph_outbox_oldest_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(orders).toMatch(/stockgraph_events_pending\{[^}]*stream="inventory"[^}]*group="orders"[^}]*\} \d+/);
    expect(sample(orders, 'stockgraph_orders_pending')).toBeGreaterThanOrEqual(0);
    expect(sample(orders, 'stockgraph_saga_retry_seconds')).toBe(30);
    expect(orders).toMatch(/stockgraph_default_partition_rows\{[^}]*table="orders\.orders"[^}]*\} 0/);
    // DATABASE_POOL_MAX=4 in the test stack.
    expect(sample(orders, 'stockgraph_db_pool_max')).toBe(4);
    expect(sample(orders, 'stockgraph_db_pool_in_flight')).toBeGreaterThanOrEqual(0);
    const inventory = await scrape(stack.subgraphs.inventory);
    expect(inventory).toMatch(/stockgraph_events_pending\{[^}]*stream="orders"[^}]*group="inventory"[^}]*\} \d+/);
  });

  it('a denied operation counts a denial under the rule that refused it', async () => {
    const viewer = await stack.as('VIEWER');
    const labels = { rule: 'Product.costPrice', decision: 'forbidden' };
    const before = await read(stack.gateway, 'stockgraph_authorization_denials_total', labels);
    const denied = await graphql(
      stack.gateway.url,
      '{ products(first: 1) { edges { node { sku costPrice } } } }',
      {},
      viewer,
    );
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await read(stack.gateway, 'stockgraph_authorization_denials_total', labels)).toBe(before + 1);

    const anonymous = { rule: 'Query.orders', decision: 'unauthenticated' };
    const anonymousBefore = await read(stack.gateway, 'stockgraph_authorization_denials_total', anonymous);
    await graphql(stack.gateway.url, '{ orders(first: 1) { edges { node { id } } } }');
    expect(await read(stack.gateway, 'stockgraph_authorization_denials_total', anonymous)).toBe(anonymousBefore + 1);

    // A subgraph's own shield counts too (this stack sets no SUBGRAPH_SHARED_SECRET, so it can be called).
    const orders = stack.subgraphs.orders;
    const inSubgraph = await read(orders, 'stockgraph_authorization_denials_total', anonymous);
    await graphql(orders.url, '{ orders(first: 1) { edges { node { id } } } }');
    expect(await read(orders, 'stockgraph_authorization_denials_total', anonymous)).toBe(inSubgraph + 1);
  });

  it('counts hits and misses of the token, authorization and persisted-operation caches', async () => {
    const manager = await stack.as('MANAGER');
    const hits = async (cache: string) =>
      read(stack.gateway, 'stockgraph_cache_lookups_total', { cache, result: 'hit' });
    const misses = async (cache: string) =>
      read(stack.gateway, 'stockgraph_cache_lookups_total', { cache, result: 'miss' });
    const query = `query CacheProbe { products(first: 1) { edges { node { sku } } } }`;
    const tokenHits = await hits('verified_token');
    const decisionHits = await hits('authorization_decision');
    await graphql(stack.gateway.url, query, {}, manager);
    await graphql(stack.gateway.url, query, {}, manager);
    expect(await hits('verified_token')).toBeGreaterThanOrEqual(tokenHits + 2);
    expect(await hits('authorization_decision')).toBeGreaterThanOrEqual(decisionHits + 1);

    // APQ: an unknown hash misses; once registered by a signed-in caller, the hash alone hits.
    const text = `query Apq${randomUUID().replaceAll('-', '')} { products(first: 1) { edges { node { name } } } }`;
    const hash = createHash('sha256').update(text).digest('hex');
    const apq = { persistedQuery: { version: 1, sha256Hash: hash } };
    const persistedMisses = await misses('persisted_operation');
    const unknown = await post(stack.gateway.url, { extensions: apq }, manager);
    expect(unknown.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await misses('persisted_operation')).toBe(persistedMisses + 1);
    await post(stack.gateway.url, { query: text, extensions: apq }, manager);
    const persistedHits = await hits('persisted_operation');
    const known = await post(stack.gateway.url, { extensions: apq }, manager);
    expect(known.errors).toBeUndefined();
    expect(await hits('persisted_operation')).toBe(persistedHits + 1);
    // The operation name is not in the manifest: it is grouped, not given a series of its own.
    expect(await scrape(stack.gateway)).not.toContain(text.split(' ')[1]);
  });

  it('no label value is an id, on any service', async () => {
    for (const [name, service] of Object.entries(services)) {
      const text = await scrape(service);
      const withIds = text.split('\n').filter((l) => !l.startsWith('#') && UUID.test(l.split('}')[0] ?? ''));
      expect(withIds, name).toEqual([]);
    }
  });

  it('every metric the dashboards and alert rules read is exported by some service', async () => {
    const exported = new Set<string>();
    for (const service of Object.values(services)) for (const n of exposedNames(await scrape(service))) exported.add(n);
    // The invariant alerts read the checker's metrics (`stockgraph check --watch`).
    const checker = await startChecker(stack.database.url);
    try {
      for (const n of exposedNames(await (await fetch(checker.url)).text())) exported.add(n);
    } finally {
      await checker.stop();
    }
    const missing = allExpressions().flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((n) => !exported.has(n))
        .map((n) => `${n} (${where})`),
    );
    expect(missing).toEqual([]);
  });
});
