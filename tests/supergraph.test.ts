import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { graphql, readCounter, startStack, type ServiceProcess, type Stack } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The production shape: each subgraph and the gateway as its own process, all on the machine's real
 * PostgreSQL (one fresh database, a schema per subgraph).
 */
let stack: Stack;
let subgraphs: Stack['subgraphs'];
let gateway: ServiceProcess;
let supergraphDir: string;
let supergraphPath: string;
let auth: Record<string, string>;

beforeAll(async () => {
  supergraphDir = mkdtempSync(join(tmpdir(), 'supergraph-'));
  supergraphPath = join(supergraphDir, 'supergraph.graphql');
  copyFileSync('schema/supergraph.graphql', supergraphPath);
  stack = await startStack({ gatewayEnv: { SUPERGRAPH_PATH: supergraphPath, SUPERGRAPH_WATCH: 'true' } });
  ({ subgraphs, gateway } = stack);
  auth = await stack.as('MANAGER');
});

afterAll(async () => {
  await stack?.stop();
  if (supergraphDir) rmSync(supergraphDir, { recursive: true, force: true });
});

const ORDERS_QUERY = `query Orders($first: Int!) {
  orders(first: $first) {
    edges { node { id number customer { name } items { quantity product { sku name available } } } }
  }
}`;

interface OrdersPage {
  orders: {
    edges: {
      node: { id: string; number: number; customer: { name: string }; items: { product: { sku: string } }[] };
    }[];
  };
}

async function sqlStatements(): Promise<number> {
  const counts = await Promise.all(
    Object.values(subgraphs).map((s) =>
      readCounter(new URL('/metrics', s.url).toString(), 'stockgraph_sql_statements_total', 'source="request"'),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}

async function statementsFor(first: number) {
  const before = await sqlStatements();
  const result = await graphql<OrdersPage>(gateway.url, ORDERS_QUERY, { first }, auth);
  const after = await sqlStatements();
  expect(result.errors).toBeUndefined();
  return { statements: after - before, orders: result.data!.orders.edges.map((e) => e.node) };
}

describe('the supergraph through the gateway, every service its own process on PostgreSQL', () => {
  it('answers a query that spans orders, customers and inventory', async () => {
    const { orders } = await statementsFor(5);
    expect(orders).toHaveLength(5);
    for (const order of orders) {
      expect(order.customer.name).toEqual(expect.any(String));
      expect(order.items.length).toBeGreaterThan(0);
      for (const item of order.items) expect(item.product.sku).toMatch(/^[A-Z]{3}-\d{4}$/);
    }
  });

  it('sends the same number of SQL statements for 5 orders as for 50', async () => {
    const small = await statementsFor(5);
    const large = await statementsFor(50);
    const items = large.orders.reduce((n, o) => n + o.items.length, 0);
    expect(items).toBeGreaterThan(50);
    // Orders page, their items, the customers, the products: one statement each; plus the users
    // service's session check (SESSION_CACHE_MS=0 here, so every request makes it).
    expect({ n5: small.statements, n50: large.statements }).toEqual({ n5: 5, n50: 5 });
  });

  it('follows references both ways: customers to their orders and products to units sold', async () => {
    const result = await graphql(
      gateway.url,
      `
        {
          customers(first: 3) {
            edges {
              node {
                name
                orderCount
                lifetimeValue
                orders(first: 2) {
                  edges {
                    node {
                      number
                      total
                    }
                  }
                }
              }
            }
          }
          products(first: 3) {
            edges {
              node {
                sku
                unitsSold
              }
            }
          }
        }
      `,
      {},
      auth,
    );
    expect(result.errors).toBeUndefined();
    for (const { node } of result.data.customers.edges) {
      expect(node.orderCount).toBeGreaterThanOrEqual(node.orders.edges.length);
      expect(node.lifetimeValue).toMatch(/^\d+\.\d{2}$/);
    }
    for (const { node } of result.data.products.edges) expect(node.unitsSold).toBeGreaterThanOrEqual(0);
  });

  it('answers bad input with coded errors and no internals', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['query ($id: ID!) { order(id: $id) { id } }', { id: "1'; drop table orders.orders; --" }, 'BAD_USER_INPUT'],
      ['{ orders(first: 1000) { totalCount } }', {}, 'BAD_USER_INPUT'],
      ['{ orders(after: "bm90LWEtY3Vyc29y") { totalCount } }', {}, 'BAD_USER_INPUT'],
      ['{ product(id: "0190b3c4-0000-7000-8000-000000000000") { id } }', {}, ''],
      ['{ nope }', {}, 'GRAPHQL_VALIDATION_FAILED'],
    ];
    for (const [query, variables, code] of cases) {
      const result = await graphql(gateway.url, query, variables, auth);
      if (code) expect(result.errors?.[0]?.extensions?.code, query).toBe(code);
      else expect(result.errors, query).toBeUndefined();
      expect(JSON.stringify(result), query).not.toMatch(/stacktrace|at .*\.ts:|syntax error at|relation "/i);
    }
    const malformed = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: '{"query": ',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('refuses deep, wide and huge operations before planning them, and keeps serving', async () => {
    let deep = 'id';
    for (let i = 0; i < 8; i++) deep = `customer { orders(first: 1) { edges { node { id ${deep} } } } }`;
    const aliases = Array.from({ length: 200 }, (_, i) => `a${i}: products(first: 100) { totalCount }`).join(' ');
    const huge = `{ products(first: 1) { edges { node { ${'sku '.repeat(5000)} } } } }`;
    const cases: [string, string][] = [
      ['deep', `{ orders(first: 1) { edges { node { ${deep} } } } }`],
      ['wide', `{ ${aliases} }`],
      ['huge', huge],
    ];
    for (const [name, query] of cases) {
      const result = await graphql(gateway.url, query, {}, auth);
      expect(result.data ?? null, name).toBeNull();
      expect(result.errors?.[0]?.extensions?.code, name).toMatch(/^GRAPHQL_(VALIDATION|PARSE)_FAILED$/);
      expect(JSON.stringify(result.errors), name).not.toMatch(/stacktrace/);
    }
    const still = await graphql(gateway.url, '{ orders(first: 1) { totalCount } }', {}, auth);
    expect(still.errors).toBeUndefined();
  });

  it('is ready only while every subgraph answers', async () => {
    const ready = await fetch(new URL('/ready', gateway.url));
    expect(ready.status).toBe(200);
    const health = await fetch(new URL('/health', subgraphs.orders.url));
    expect(health.status).toBe(200);
  });

  it('reloads the supergraph when the file changes', async () => {
    const sdl = readFileSync(supergraphPath, 'utf8');
    writeFileSync(
      supergraphPath,
      sdl
        .replace('"""Someone who places orders with us."""', '"""Someone who buys from us (reloaded)."""')
        .replace('"Someone who places orders with us."', '"Someone who buys from us (reloaded)."'),
    );
    let description = '';
    for (let i = 0; i < 50 && !description.includes('reloaded'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      const result = await graphql(gateway.url, '{ __type(name: "Customer") { description } }', {}, auth);
      description = result.data?.__type?.description ?? '';
    }
    expect(description).toContain('reloaded');
  });

  it('stops being ready when a subgraph goes away', async () => {
    await subgraphs.customers.stop();
    const ready = await fetch(new URL('/ready', gateway.url));
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks.customers).not.toBe('ok');
  });
});
