import { randomUUID } from 'node:crypto';
import { generateDemoData } from '@stockgraph/demo-data';
import { graphql } from './graphql.js';
import { run } from './process.js';
import { startStack, type Stack, type StackOptions } from './stack.js';
import postgres from 'postgres';
import { createClient } from 'redis';
import { expect } from 'vitest';

export const demo = generateDemoData();
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A stack whose services talk over real Redis Streams, under a key prefix of its own. `start` is
 * another checkout's `startStack` when a bench compares two builds.
 */
export async function startSagaStack(
  env: Record<string, string> = {},
  options: StackOptions = {},
  start: typeof startStack = startStack,
) {
  const prefix = `sgtest:${randomUUID().slice(0, 8)}:`;
  const stack = await start({
    ...options,
    env: {
      REDIS_URL,
      EVENTS_PREFIX: prefix,
      EVENTS_CLAIM_IDLE_MS: '1000',
      LOGIN_MAX_FAILURES: '100',
      ...env,
      ...options.env,
    },
  });
  return { stack, prefix };
}

export async function dropRedisKeys(prefix: string, url = REDIS_URL): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) {
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    await client.quit();
  }
}

export const PLACE = `mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { id status total createdBy { id } rejection { code products { product { id } requested available } } }
}`;

export function placeOrder(
  stack: Stack,
  headers: Record<string, string>,
  items: { productId: string; quantity: number }[],
  key: string = randomUUID(),
  customerId = demo.customers[0]!.id,
) {
  return graphql(stack.gateway.url, PLACE, { input: { customerId, items, idempotencyKey: key } }, headers);
}

/** A product with exactly `units` available, created through the API like a manager would. */
export async function productWithStock(stack: Stack, units: number, category?: string): Promise<string> {
  const manager = await stack.as('MANAGER');
  const sku = `T-${randomUUID().slice(0, 8)}`;
  const created = await graphql(
    stack.gateway.url,
    'mutation ($i: CreateProductInput!) { createProduct(input: $i) { id } }',
    { i: { sku, name: `Test ${sku}`, unitPrice: '9.99', category } },
    manager,
  );
  expect(created.errors).toBeUndefined();
  const id = created.data.createProduct.id as string;
  const received = await graphql(
    stack.gateway.url,
    'mutation ($id: ID!, $q: Int!) { receiveStock(productId: $id, quantity: $q) { onHand } }',
    { id, q: units },
    manager,
  );
  expect(received.data.receiveStock.onHand).toBe(units);
  // Orders learns the new product's price from inventory's events; wait until it has.
  const sql = postgres(stack.database.url, { max: 1 });
  try {
    await eventually(
      async () => (await sql`select 1 from orders.product_prices where product_id = ${id}`).length === 1,
      30_000,
      'orders knows the price',
    );
  } finally {
    await sql.end();
  }
  return id;
}

export async function eventually<T>(
  check: () => Promise<T | false | undefined | null>,
  timeoutMs = 30_000,
  label = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${label} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until every order has left PENDING and returns their statuses. */
export async function finalStatuses(stack: Stack, ids: string[], timeoutMs = 30_000): Promise<Map<string, string>> {
  const headers = await stack.as('MANAGER');
  return eventually(
    async () => {
      const statuses = new Map<string, string>();
      // 25 aliases per request: the gateway refuses more than 30.
      for (let i = 0; i < ids.length; i += 25) {
        const chunk = ids.slice(i, i + 25);
        const query = `{ ${chunk.map((id, n) => `o${n}: order(id: "${id}") { id status }`).join(' ')} }`;
        const result = await graphql(stack.gateway.url, query, {}, headers);
        if (!result.data) throw new Error(`order status query refused: ${JSON.stringify(result.errors)}`);
        for (const order of Object.values(result.data) as { id: string; status: string }[])
          statuses.set(order.id, order.status);
      }
      return [...statuses.values()].every((s) => s !== 'PENDING') ? statuses : false;
    },
    timeoutMs,
    'every order final',
  );
}

export async function stockOf(stack: Stack, productId: string) {
  const result = await graphql(
    stack.gateway.url,
    'query ($id: ID!) { product(id: $id) { onHand reserved available } }',
    { id: productId },
    await stack.as('MANAGER'),
  );
  return result.data.product as { onHand: number; reserved: number; available: number };
}

export function ledgerCheck(stack: Stack) {
  return run('subgraphs/inventory/src/stock-check.ts', { DATABASE_URL: stack.database.url });
}

/** A Redis of the test's own (append-only file, fsync on every write) that it may stop and start. */
export async function startOwnRedis() {
  const { mkdtempSync, readdirSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { spawn } = await import('node:child_process');
  const { createServer } = await import('node:net');
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ReturnType<typeof spawn> | null = null;
  const start = async () => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
      ],
      { stdio: 'ignore' },
    );
    await eventually(
      async () => {
        const client = createClient({ url, socket: { reconnectStrategy: false } });
        client.on('error', () => {});
        try {
          await client.connect();
          await client.ping();
          return true;
        } catch {
          return false;
        } finally {
          if (client.isOpen) await client.quit();
        }
      },
      10_000,
      'redis up',
    );
  };
  const stop = async () => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    running.kill('SIGTERM');
    await new Promise((r) => running.once('exit', r));
  };
  await start();
  return {
    url,
    start,
    stop,
    /** Stops it, deletes its data (append-only file included) and starts it again: a total loss. */
    restartEmpty: async () => {
      await stop();
      for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
      await start();
    },
    remove: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
