import { graphql, post, readCounter, startStack, type Stack } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@stockgraph/testkit/saga';

/**
 * A subgraph that hangs or is gone costs only the fields it serves: the gateway gives up on it
 * within SUBGRAPH_TIMEOUT_MS, stops calling it while its breaker is open, and answers everything the
 * other subgraphs can, with a coded error at each path it could not fill.
 */
let stack: Stack;
let manager: Record<string, string>;
// Generous: on a loaded CI machine a healthy subgraph must never look hung.
const TIMEOUT_MS = 4000;
const BREAKER_RESET_MS = 2000;

beforeAll(async () => {
  stack = await startStack({
    gatewayEnv: {
      SUBGRAPH_TIMEOUT_MS: String(TIMEOUT_MS),
      SUBGRAPH_BREAKER_FAILURES: '3',
      SUBGRAPH_BREAKER_RESET_MS: String(BREAKER_RESET_MS),
      SUBGRAPH_BREAKER_WINDOW_MS: '60000',
    },
  });
  manager = await stack.as('MANAGER');
});

afterAll(async () => {
  const customers = stack?.subgraphs.customers;
  if (customers?.child.pid && customers.child.exitCode === null) customers.child.kill('SIGCONT');
  await stack?.stop();
});

const ORDERS_WITH_CUSTOMERS = '{ orders(first: 5) { edges { node { id number customer { name } } } } }';
const metricsUrl = () => new URL('/metrics', stack.gateway.url).toString();
const errorLogs = () => stack.gateway.output.filter((line) => line.includes('"level":50'));

function expectUnavailable(
  errors: { path?: (string | number)[]; extensions?: Record<string, unknown> }[] | undefined,
  service: string,
) {
  expect(errors?.length, JSON.stringify(errors)).toBeGreaterThan(0);
  for (const error of errors!) {
    expect(error.extensions?.code, JSON.stringify(error)).toBe('SUBGRAPH_UNAVAILABLE');
    expect(error.extensions?.service).toBe(service);
  }
}

describe('bad scalar values through the gateway (finding 11)', () => {
  const decimals: unknown[] = ['NaN', '1e309', 1.5, ' 1.00'];
  const dates = ['yesterday', '9999-99-99'];
  let productId: string;

  beforeAll(async () => {
    const products = await graphql(stack.gateway.url, '{ products(first: 1) { edges { node { id } } } }', {}, manager);
    productId = products.data!.products.edges[0].node.id;
  });

  it.each(decimals)('refuses the Decimal %j as a variable and as a literal with BAD_USER_INPUT', async (value) => {
    const before = errorLogs().length;
    const asVariable = await graphql(
      stack.gateway.url,
      'mutation ($id: ID!, $p: Decimal!) { updateProduct(id: $id, input: { unitPrice: $p }) { unitPrice } }',
      { id: productId, p: value },
      manager,
    );
    expect(asVariable.status).toBe(400);
    expect(asVariable.errors?.[0]?.extensions?.code, JSON.stringify(asVariable.errors)).toBe('BAD_USER_INPUT');
    const literal = JSON.stringify(value);
    const asLiteral = await graphql(
      stack.gateway.url,
      `mutation ($id: ID!) { updateProduct(id: $id, input: { unitPrice: ${literal} }) { unitPrice } }`,
      { id: productId },
      manager,
    );
    expect(asLiteral.status).toBe(400);
    expect(asLiteral.errors?.[0]?.extensions?.code, JSON.stringify(asLiteral.errors)).toBe('BAD_USER_INPUT');
    expect(errorLogs().slice(before)).toEqual([]);
  });

  it.each(dates)('refuses the DateTime %j as a variable and as a literal with BAD_USER_INPUT', async (value) => {
    const before = errorLogs().length;
    const asVariable = await graphql(
      stack.gateway.url,
      'query ($d: DateTime!) { orderStats(from: $d, to: $d) { orderCount } }',
      { d: value },
      manager,
    );
    expect(asVariable.status).toBe(400);
    expect(asVariable.errors?.[0]?.extensions?.code, JSON.stringify(asVariable.errors)).toBe('BAD_USER_INPUT');
    const asLiteral = await graphql(
      stack.gateway.url,
      `{ orders(first: 1, filter: { createdFrom: "${value}" }) { totalCount } }`,
      {},
      manager,
    );
    expect(asLiteral.status).toBe(400);
    expect(asLiteral.errors?.[0]?.extensions?.code, JSON.stringify(asLiteral.errors)).toBe('BAD_USER_INPUT');
    expect(errorLogs().slice(before)).toEqual([]);
  });

  it('still takes good values', async () => {
    const ok = await graphql(
      stack.gateway.url,
      'query ($d: DateTime!) { orderStats(from: $d, to: "2026-02-01T00:00:00Z") { orderCount } }',
      { d: '2026-01-01T00:00:00Z' },
      manager,
    );
    expect(ok.errors).toBeUndefined();
  });
});

describe('a subgraph that hangs (finding 7)', () => {
  it('answers within the timeout with coded errors, opens the breaker, and closes it when the subgraph is back', async () => {
    const customers = stack.subgraphs.customers;
    customers.child.kill('SIGSTOP');
    try {
      const started = Date.now();
      const hung = await graphql(stack.gateway.url, ORDERS_WITH_CUSTOMERS, {}, manager);
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 2500);
      expect(hung.status).toBe(200);
      expect(hung.data?.orders.edges).toHaveLength(5);
      for (const edge of hung.data!.orders.edges) expect(edge.node.customer).toBeNull();
      expectUnavailable(hung.errors, 'customers');
      expect(
        await readCounter(metricsUrl(), 'stockgraph_subgraph_timeouts_total', 'subgraph="customers"'),
      ).toBeGreaterThan(0);

      // Repeated failures open the breaker: from then on the gateway answers at once, without waiting.
      await eventually(
        async () => {
          await Promise.all(
            [1, 2, 3].map(() => graphql(stack.gateway.url, '{ customers(first: 1) { totalCount } }', {}, manager)),
          );
          return (await readCounter(metricsUrl(), 'stockgraph_subgraph_breaker_state', 'subgraph="customers"')) === 2;
        },
        30_000,
        'breaker open',
      );
      const quick = Date.now();
      const refused = await graphql(
        stack.gateway.url,
        '{ customers(first: 1) { totalCount } products(first: 1) { totalCount } }',
        {},
        manager,
      );
      expect(Date.now() - quick).toBeLessThan(TIMEOUT_MS);
      expect(refused.data?.customers).toBeNull();
      expect(refused.data?.products.totalCount).toBeGreaterThan(0);
      expectUnavailable(refused.errors, 'customers');
      expect(refused.errors![0]!.path).toEqual(['customers']);
    } finally {
      customers.child.kill('SIGCONT');
    }
    // A half-open probe after the reset time finds it healthy again and closes the breaker.
    await eventually(
      async () => {
        const result = await graphql(stack.gateway.url, ORDERS_WITH_CUSTOMERS, {}, manager);
        return !result.errors && result.data?.orders.edges[0].node.customer?.name;
      },
      30_000,
      'customers answers again',
    );
    expect(await readCounter(metricsUrl(), 'stockgraph_subgraph_breaker_state', 'subgraph="customers"')).toBe(0);
  }, 120_000);
});

describe('a subgraph that is gone (finding 8)', () => {
  it('nulls only the fields it serves, with a coded error at each path; 503 when nothing could be answered', async () => {
    // Connection refused is retried once for queries; the retry is counted.
    const retriesBefore = await readCounter(metricsUrl(), 'stockgraph_subgraph_retries_total', 'subgraph="customers"');
    await stack.subgraphs.customers.stop();

    const orders = await graphql(stack.gateway.url, ORDERS_WITH_CUSTOMERS, {}, manager);
    expect(orders.status).toBe(200);
    expect(orders.data?.orders.edges).toHaveLength(5);
    orders.data!.orders.edges.forEach((edge: { node: { customer: unknown } }) => expect(edge.node.customer).toBeNull());
    expectUnavailable(orders.errors, 'customers');
    const paths = orders.errors!.map((e) => JSON.stringify(e.path));
    for (let i = 0; i < 5; i++) expect(paths).toContain(JSON.stringify(['orders', 'edges', i, 'node', 'customer']));
    const retries = await readCounter(metricsUrl(), 'stockgraph_subgraph_retries_total', 'subgraph="customers"');
    expect(
      retries,
      stack.gateway.output
        .filter((l) => l.includes('subgraph'))
        .slice(-6)
        .join('\n'),
    ).toBeGreaterThan(retriesBefore);

    const both = await graphql(stack.gateway.url, '{ customers { totalCount } products { totalCount } }', {}, manager);
    expect(both.status).toBe(200);
    expect(both.data?.customers).toBeNull();
    expect(both.data?.products.totalCount).toBeGreaterThan(0);
    expectUnavailable(both.errors, 'customers');

    // Customer fields another subgraph contributes degrade the same way when that one is healthy.
    const response = await fetch(stack.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...manager },
      body: JSON.stringify({ query: '{ customers(first: 2) { totalCount } }' }),
    });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await response.json()) as { data: unknown; errors: { extensions: Record<string, unknown> }[] };
    expect(body.data).toEqual({ customers: null });
    expectUnavailable(body.errors, 'customers');

    // A mutation is never retried, and is a 503 with nothing done.
    const created = await post(
      stack.gateway.url,
      { query: 'mutation { createCustomer(input: { name: "Nobody" }) { id } }' },
      await stack.as('STAFF'),
    );
    expect(created.status).toBe(503);
    expectUnavailable(created.errors, 'customers');
  }, 60_000);
});
