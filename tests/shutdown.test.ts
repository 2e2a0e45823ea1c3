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
} from './saga-support.js';

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
});
