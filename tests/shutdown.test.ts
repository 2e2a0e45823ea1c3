import { randomUUID } from 'node:crypto';
import { graphql, startProcess, type ServiceProcess, type Stack } from '@stockgraph/testkit';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  finalStatuses,
  ledgerCheck,
  placeOrder,
  productWithStock,
  startSagaStack,
  stockOf,
} from '@stockgraph/testkit/saga';
import { openSse, openWs } from './subscription-support.js';

/**
 * SIGTERM, as Kubernetes sends it before a pod goes away. What "graceful" means here, precisely:
 * a request the service has already received when the signal arrives is answered normally; from the
 * signal on, /ready answers 503 (or the connection is refused) and no new connection is accepted, so
 * with one replica a request that arrives later fails fast with a coded error (with two, Kubernetes
 * has stopped routing to the pod); the event being applied is committed, the rest stay pending for
 * another consumer or the next start; then the process exits 0 within SHUTDOWN_TIMEOUT_MS.
 */
const SECRET = 'shutdown-test-secret-0123456789abcdef';
let stack: Stack;
let prefix: string;
let sql: postgres.Sql;
const own: ServiceProcess[] = [];

beforeAll(async () => {
  // The subgraphs restarted below run in production mode, which takes calls only from a gateway that
  // presents the shared secret: the whole stack gets one.
  ({ stack, prefix } = await startSagaStack({
    PLACE_ORDER_WAIT_MS: '0',
    SAGA_RETRY_MS: '3000',
    SUBGRAPH_SHARED_SECRET: SECRET,
  }));
  sql = postgres(stack.database.url, { max: 2 });
});

afterAll(async () => {
  await Promise.all(own.map((p) => p.stop()));
  await sql?.end();
  await stack?.stop();
});

function exited(p: ServiceProcess): Promise<number | null> {
  if (p.child.exitCode !== null) return Promise.resolve(p.child.exitCode);
  return new Promise((resolve) => p.child.once('exit', (code) => resolve(code)));
}

/** A subgraph process on the stack's database, Redis and port, as a supervisor would start it. */
async function startSubgraph(name: string, port: string, env: Record<string, string> = {}) {
  const p = await startProcess(`subgraphs/${name}/src/server.ts`, {
    PORT: port,
    DATABASE_URL: stack.database.url,
    JWKS_URL: new URL('/.well-known/jwks.json', stack.subgraphs.users.url).toString(),
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    EVENTS_PREFIX: prefix,
    EVENTS_CLAIM_IDLE_MS: '1000',
    SHUTDOWN_TIMEOUT_MS: '15000',
    // As deployed: outside test mode Apollo Server would also answer the signal on its own.
    NODE_ENV: 'production',
    SEED_DEMO_DATA: 'false',
    SUBGRAPH_SHARED_SECRET: SECRET,
    ...env,
  });
  own.push(p);
  return p;
}

describe('SIGTERM', () => {
  it('answers every query a subgraph already holds, refuses new ones at once, and exits 0', async () => {
    const port = new URL(stack.subgraphs.customers.url).port;
    await stack.subgraphs.customers.stop();
    const customers = await startSubgraph('customers', port, { DATABASE_POOL_MAX: '16' });
    const staff = await stack.as('STAFF');
    // Hold the customers table so the burst is provably inside the subgraph, blocked in its queries,
    // when the signal arrives.
    const locker = await sql.reserve();
    const burst = 12;
    let results: Promise<Awaited<ReturnType<typeof graphql>>[]>;
    try {
      await locker`begin`;
      await locker`lock table customers.customers in access exclusive mode`;
      results = Promise.all(
        Array.from({ length: burst }, (_, i) =>
          graphql(
            stack.gateway.url,
            'query ($n: Int!) { customers(first: $n) { edges { node { id name } } } }',
            { n: i + 1 },
            staff,
          ),
        ),
      );
      await eventually(
        async () => {
          const [row] = await sql`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and query ilike '%customers%'`;
          return row!.n >= burst;
        },
        30_000,
        'the whole burst waiting inside the customers subgraph',
      );
      customers.child.kill('SIGTERM');
      // Not ready from the signal on: a probe on a new connection is refused or told 503.
      await eventually(
        async () => {
          const status = await fetch(new URL('/ready', customers.url)).then(
            (r) => r.status,
            () => 'refused',
          );
          return status === 503 || status === 'refused';
        },
        5_000,
        'customers not ready after SIGTERM',
      );
      // A query arriving now fails fast and coded, instead of hanging or reaching a half-closed socket.
      const late = await graphql(stack.gateway.url, '{ customers(first: 1) { edges { node { id } } } }', {}, staff);
      expect(late.errors?.[0]?.extensions?.code, JSON.stringify(late)).toBeTruthy();
      expect(customers.child.exitCode).toBeNull();
    } finally {
      await locker`commit`;
      locker.release();
    }
    for (const [i, result] of (await results).entries()) {
      expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
      expect((result.data as { customers: { edges: unknown[] } }).customers.edges).toHaveLength(i + 1);
    }
    expect(await exited(customers)).toBe(0);
    expect(customers.output.join('\n')).toContain('"msg":"stopped"');
  });

  it('keeps every order of a burst when inventory is stopped in the middle and started again', async () => {
    const staff = await stack.as('STAFF');
    const productId = await productWithStock(stack, 60);
    const port = new URL(stack.subgraphs.inventory.url).port;
    await stack.subgraphs.inventory.stop();
    const inventory = await startSubgraph('inventory', port);
    const placed = Array.from({ length: 40 }, () => placeOrder(stack, staff, [{ productId, quantity: 1 }]));
    // Inventory is applying the burst's events when the signal arrives.
    await eventually(
      async () => {
        const [row] = await sql`select count(*)::int as n from inventory.reservations`;
        return row!.n >= 1;
      },
      30_000,
      'inventory applying the burst',
    );
    inventory.child.kill('SIGTERM');
    expect(await exited(inventory)).toBe(0);
    const results = await Promise.all(placed);
    for (const r of results) expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    await startSubgraph('inventory', port);
    const statuses = await finalStatuses(
      stack,
      results.map((r) => (r.data as { placeOrder: { id: string } }).placeOrder.id),
      60_000,
    );
    expect(
      [...statuses.values()].every((s) => s === 'CONFIRMED'),
      JSON.stringify([...statuses.values()]),
    ).toBe(true);
    expect((await stockOf(stack, productId)).reserved).toBe(40);
    const rows = await sql`select order_id, count(*)::int as n from inventory.stock_movements
      where product_id = ${productId} and reason = 'RESERVATION' group by order_id`;
    expect(rows.every((r) => r.n === 1) && rows.length === 40).toBe(true);
    const check = await ledgerCheck(stack);
    expect(check.code, check.stderr).toBe(0);
  });

  it('drains a gateway mid-burst: every held request answers, and its subscribers resume on another gateway without losing an event', async () => {
    // Customers as the first test leaves it (stopped), or the stack's: a process of this test's own,
    // with a pool large enough to hold the whole burst inside it.
    const customersPort = new URL(stack.subgraphs.customers.url).port;
    await stack.subgraphs.customers.stop();
    await startSubgraph('customers', customersPort, { DATABASE_POOL_MAX: '16' });
    const leaving = await stack.startGateway({ SHUTDOWN_TIMEOUT_MS: '15000' });
    const staying = await stack.startGateway();
    const [viewer, staff] = await Promise.all([stack.as('VIEWER'), stack.as('STAFF')]);
    const productId = await productWithStock(stack, 10);
    const receive = (quantity: number) =>
      graphql(
        stack.gateway.url,
        'mutation ($id: ID!, $q: Int!) { receiveStock(productId: $id, quantity: $q) { available } }',
        { id: productId, q: quantity },
        staff,
      );
    const sse = await openSse(leaving.url, STOCK, { ids: [productId] }, viewer);
    const ws = openWs(leaving.url, { authorization: viewer.authorization });
    let wsLive: ReturnType<typeof ws.subscribe>;
    try {
      // Both are live: the SSE stream is open once its answer starts; the WebSocket subscription has no
      // such moment, so it starts from the SSE's first event and must get the next one like SSE does.
      expect((await receive(1)).errors).toBeUndefined();
      const opened = await sse.events.next(30_000, 'a change over SSE');
      wsLive = ws.subscribe(STOCK, { ids: [productId] }, { lastEventId: opened.id });
      expect((await receive(1)).errors).toBeUndefined();
      const first = await sse.events.next(30_000, 'the first change over SSE');
      expect((await wsLive.results.next(30_000, 'the first change over WebSocket')).extensions?.streamId).toBe(
        first.id,
      );

      // A burst held inside the customers subgraph (behind a table lock) when the signal arrives.
      const locker = await sql.reserve();
      let burst: Promise<Awaited<ReturnType<typeof graphql>>[]>;
      try {
        await locker`begin`;
        await locker`lock table customers.customers in access exclusive mode`;
        burst = Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            graphql(
              leaving.url,
              'query ($n: Int!) { customers(first: $n) { edges { node { id } } } }',
              { n: i + 1 },
              staff,
            ),
          ),
        );
        await eventually(
          async () => {
            const [row] = await sql`select count(*)::int as n from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock' and query ilike '%customers%'`;
            return row!.n >= 10;
          },
          30_000,
          'the burst held inside customers',
        );
        leaving.child.kill('SIGTERM');
        // Subscribers are told to go elsewhere, not that their subscription is over.
        const last = await sse.events.next(30_000, 'the SSE subscriber told to reconnect');
        expect(last.data?.errors?.[0]?.extensions?.code).toBe('SHUTTING_DOWN');
        const wsLast = await wsLive.results.next(30_000, 'the WebSocket subscriber told to reconnect');
        expect(wsLast.errors?.[0]?.extensions?.code).toBe('SHUTTING_DOWN');
        expect((await ws.closed.next(30_000, 'the WebSocket closed')).code).toBe(1001);
        // Changes made while the subscribers move over.
        for (const quantity of [2, 3]) expect((await receive(quantity)).errors).toBeUndefined();
      } finally {
        await locker`commit`;
        locker.release();
      }
      // Every request the leaving gateway held is answered in full.
      for (const [i, result] of (await burst).entries()) {
        expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
        expect((result.data as { customers: { edges: unknown[] } }).customers.edges).toHaveLength(i + 1);
      }
      expect(await exited(leaving)).toBe(0);

      // Resumed on the other gateway from the last id each got: the two changes, in order, nothing lost.
      const resumed = await openSse(
        staying.url,
        STOCK,
        { ids: [productId] },
        { ...viewer, 'last-event-id': first.id! },
      );
      const ws2 = openWs(staying.url, { authorization: viewer.authorization });
      try {
        const wsResumed = ws2.subscribe(STOCK, { ids: [productId] }, { lastEventId: first.id });
        for (const delta of [2, 3]) {
          expect(
            (await resumed.events.next(30_000, `change ${delta} over SSE`)).data.data.stockChanged.movement.delta,
          ).toBe(delta);
          expect(
            (await wsResumed.results.next(30_000, `change ${delta} over WebSocket`)).data.stockChanged.movement.delta,
          ).toBe(delta);
        }
      } finally {
        resumed.close();
        await ws2.close();
      }
    } finally {
      sse.close();
      await ws.close();
    }
  });

  it('drains orders mid-placeOrder: every caller gets its order or a coded retryable error, and every order ends final', async () => {
    const staff = await stack.as('STAFF');
    const productId = await productWithStock(stack, 100);
    const port = new URL(stack.subgraphs.orders.url).port;
    await stack.subgraphs.orders.stop();
    // placeOrder waits up to 5 s for inventory's decision: with reservations locked, every call is
    // provably inside orders, waiting, when the signal arrives.
    const orders = await startSubgraph('orders', port, { PLACE_ORDER_WAIT_MS: '5000' });
    const keys = Array.from({ length: 20 }, () => `drain-${randomUUID()}`);
    const locker = await sql.reserve();
    let calls: Promise<Awaited<ReturnType<typeof placeOrder>>[]>;
    const late: Awaited<ReturnType<typeof placeOrder>>[] = [];
    try {
      await locker`begin`;
      await locker`lock table inventory.reservations in access exclusive mode`;
      calls = Promise.all(keys.map((key) => placeOrder(stack, staff, [{ productId, quantity: 1 }], key)));
      await eventually(
        async () => {
          const [row] =
            await sql`select count(*)::int as n from orders.idempotency_keys where key = any(${sql.array(keys)})`;
          return row!.n === keys.length;
        },
        30_000,
        'every order placed and waiting for its decision',
      );
      orders.child.kill('SIGTERM');
      // Orders placed after the signal: refused with a code that says try again (or, on a connection
      // the gateway already had open, taken before it closes).
      for (const key of keys.slice(0, 3))
        late.push(await placeOrder(stack, staff, [{ productId, quantity: 1 }], `${key}-late`));
    } finally {
      await locker`commit`;
      locker.release();
    }
    const answered = await calls;
    for (const result of [...answered, ...late]) {
      const order = (result.data as { placeOrder?: { id: string; status: string } } | null)?.placeOrder;
      const code = result.errors?.[0]?.extensions?.code;
      expect(order !== undefined || RETRYABLE.has(String(code)), JSON.stringify(result)).toBe(true);
    }
    // The calls it held were answered with their orders, not cut off.
    expect(answered.filter((r) => r.errors === undefined)).toHaveLength(keys.length);
    expect(await exited(orders)).toBe(0);

    await startSubgraph('orders', port);
    // The callers that got an error retry with their key, as a client does; the late ones too.
    const ids: string[] = [];
    for (const [i, key] of [...keys, ...keys.slice(0, 3).map((k) => `${k}-late`)].entries()) {
      const first = answered[i];
      let order = (first?.data as { placeOrder?: { id: string } } | null)?.placeOrder;
      if (!order) {
        const retried = await eventually(
          async () => {
            const r = await placeOrder(stack, staff, [{ productId, quantity: 1 }], key);
            return r.errors ? null : r;
          },
          30_000,
          `the retry of ${key}`,
        );
        order = (retried.data as { placeOrder: { id: string } }).placeOrder;
      }
      ids.push(order.id);
    }
    // One order per key, each final: nothing lost, nothing doubled, nothing stuck PENDING.
    expect(new Set(ids).size).toBe(keys.length + 3);
    const statuses = await finalStatuses(stack, ids, 60_000);
    expect(
      [...statuses.values()].every((s) => s === 'CONFIRMED'),
      JSON.stringify([...statuses.values()]),
    ).toBe(true);
    expect((await stockOf(stack, productId)).reserved).toBe(keys.length + 3);
    const check = await ledgerCheck(stack);
    expect(check.code, check.stderr).toBe(0);
  });
});

const STOCK = `subscription Stock($ids: [ID!]!) {
  stockChanged(productIds: $ids) { streamId available movement { reason delta } }
}`;

/** Codes a client retries (the same idempotency key makes a retried placeOrder safe). */
const RETRYABLE = new Set(['SUBGRAPH_UNAVAILABLE', 'SERVICE_UNAVAILABLE']);
