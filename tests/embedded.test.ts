import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { graphql, ROOT } from '@stockgraph/testkit';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeBasePort, launcherEnv } from './launcher-support.js';
import { openSse } from './subscription-support.js';

let child: ChildProcess;
let dataDir: string;
let url: string;
let banner = '';
let auth: Record<string, string> = {};
let basePort = 0;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pglite-'));
  const port = await freeBasePort();
  basePort = port;
  // Exactly what `pnpm start` runs, on a fresh embedded database.
  child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: ROOT,
    env: launcherEnv(port, dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (d) => (banner += d));
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner:\n${banner}`)), 90_000);
    child.stdout!.on('data', (d) => {
      banner += d;
      const match = /GraphQL endpoint: (\S+)/.exec(banner);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`pnpm start exited with ${code}:\n${banner}`)));
  });
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('pnpm start on embedded defaults (PGlite, one process)', () => {
  it('prints the endpoint and the demo users', () => {
    expect(banner).toContain('admin@stockgraph.local');
    expect(banner).toMatch(/Demo password: stockgraph/);
  });

  it('signs in a demo user', async () => {
    const result = await graphql(
      url,
      'mutation { login(email: "manager@stockgraph.local", password: "stockgraph") { accessToken } }',
    );
    expect(result.errors).toBeUndefined();
    auth = { authorization: `Bearer ${result.data.login.accessToken}` };
  });

  it('serves seeded orders with their customer and products', async () => {
    const result = await graphql<{
      orders: {
        totalCount: number;
        edges: { node: { customer: { name: string }; items: { product: { name: string } }[] } }[];
      };
    }>(
      url,
      `
        {
          orders(first: 10) {
            totalCount
            edges {
              node {
                number
                status
                customer {
                  name
                }
                items {
                  quantity
                  product {
                    sku
                    name
                    available
                  }
                }
              }
            }
          }
        }
      `,
      {},
      auth,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.orders.totalCount).toBeGreaterThan(5000);
    const orders = result.data!.orders.edges.map((e) => e.node);
    expect(orders).toHaveLength(10);
    for (const order of orders) {
      expect(order.customer.name).toEqual(expect.any(String));
      for (const item of order.items) expect(item.product.name).toEqual(expect.any(String));
    }
  });

  it('confirms an order through the in-process event bus', async () => {
    const staff = await graphql(
      url,
      'mutation { login(email: "staff@stockgraph.local", password: "stockgraph") { accessToken } }',
    );
    const headers = { authorization: `Bearer ${staff.data.login.accessToken}` };
    const products = await graphql(
      url,
      '{ products(first: 1, filter: { lowStock: false }) { edges { node { id available } } } customers(first: 1) { edges { node { id } } } }',
      {},
      headers,
    );
    const product = products.data.products.edges[0].node;
    const placed = await graphql(
      url,
      'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { status items { quantity } } }',
      {
        input: {
          customerId: products.data.customers.edges[0].node.id,
          items: [{ productId: product.id, quantity: 1 }],
          idempotencyKey: 'embedded-smoke-order',
        },
      },
      headers,
    );
    expect(placed.errors).toBeUndefined();
    expect(placed.data.placeOrder.status).toBe('CONFIRMED');
    const after = await graphql(
      url,
      'query ($id: ID!) { product(id: $id) { available } }',
      { id: product.id },
      headers,
    );
    expect(after.data.product.available).toBe(product.available - 1);
  });

  it('delivers a stock change to a subscriber over SSE, through the in-process bus', async () => {
    const staff = await graphql(
      url,
      'mutation { login(email: "staff@stockgraph.local", password: "stockgraph") { accessToken } }',
    );
    const headers = { authorization: `Bearer ${staff.data.login.accessToken}` };
    const products = await graphql(url, '{ products(first: 1) { edges { node { id } } } }', {}, headers);
    const productId = products.data.products.edges[0].node.id as string;
    const stream = await openSse(
      url,
      'subscription ($ids: [ID!]!) { stockChanged(productIds: $ids) { movement { reason delta } product { id } } }',
      { ids: [productId] },
      headers,
    );
    try {
      expect(stream.status).toBe(200);
      const received = await graphql(
        url,
        'mutation ($id: ID!) { receiveStock(productId: $id, quantity: 3) { id } }',
        { id: productId },
        headers,
      );
      expect(received.errors).toBeUndefined();
      const event = await stream.events.next(30_000, 'the receipt');
      expect(event.data.data.stockChanged).toEqual({
        movement: { reason: 'RECEIPT', delta: 3 },
        product: { id: productId },
      });
      expect(event.id).toBe(event.data.extensions.streamId);
    } finally {
      stream.close();
    }
  });

  it('replays an offline batch once, remembering it in the gateway process', async () => {
    const staff = await graphql(
      url,
      'mutation { login(email: "staff@stockgraph.local", password: "stockgraph") { accessToken } }',
    );
    const headers = { authorization: `Bearer ${staff.data.login.accessToken}` };
    const products = await graphql(url, '{ products(first: 1) { edges { node { id onHand } } } }', {}, headers);
    const { id, onHand } = products.data.products.edges[0].node as { id: string; onHand: number };
    const operations = [
      {
        idempotencyKey: `embedded-${Date.now()}`,
        recordedAt: new Date().toISOString(),
        receiveStock: { productId: id, quantity: 2 },
      },
    ];
    const submit = 'mutation ($o: [OfflineOperation!]!) { submitBatch(operations: $o) { status product { onHand } } }';
    const first = await graphql(url, submit, { o: operations }, headers);
    expect(first.data.submitBatch).toEqual([{ status: 'DONE', product: { onHand: onHand + 2 } }]);
    const again = await graphql(url, submit, { o: operations }, headers);
    expect(again.data.submitBatch).toEqual([{ status: 'ALREADY_DONE', product: { onHand: onHand + 2 } }]);
  });

  it('refuses a logged-out session at a subgraph called directly, through the in-process revocation list', async () => {
    const staff = await graphql(
      url,
      'mutation { login(email: "staff@stockgraph.local", password: "stockgraph") { accessToken refreshToken } }',
    );
    const headers = { authorization: `Bearer ${staff.data.login.accessToken}` };
    const customers = `http://127.0.0.1:${basePort + 4}/graphql`;
    expect((await graphql(customers, '{ customers(first: 1) { totalCount } }', {}, headers)).errors).toBeUndefined();
    await graphql(
      url,
      'mutation ($t: String!) { logout(refreshToken: $t) }',
      { t: staff.data.login.refreshToken },
      headers,
    );
    const after = await graphql(customers, '{ customers(first: 1) { totalCount } }', {}, headers);
    expect(after.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'SESSION_REVOKED' });
  });

  it('keeps two years of orders in monthly partitions', async () => {
    const to = new Date();
    const from = new Date(Date.UTC(to.getUTCFullYear() - 2, to.getUTCMonth(), 1));
    const result = await graphql<{ orderStats: { start: string; orderCount: number }[] }>(
      url,
      `
        query ($from: DateTime!, $to: DateTime!) {
          orderStats(from: $from, to: $to, interval: MONTH) {
            start
            orderCount
          }
        }
      `,
      { from: from.toISOString(), to: to.toISOString() },
      auth,
    );
    expect(result.errors).toBeUndefined();
    const busy = result.data!.orderStats.filter((b) => b.orderCount > 0);
    expect(busy.length).toBeGreaterThanOrEqual(23);
  });
});
