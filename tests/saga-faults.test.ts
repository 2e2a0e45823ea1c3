import { createLogger } from '@stockgraph/logger';
import { openDatabase } from '@stockgraph/db';
import { createRedisBus, startConsumer } from '@stockgraph/events';
import { applyOrdersEvent, inventoryTables } from '@stockgraph/inventory';
import { graphql, startProcess, type ServiceProcess, type Stack } from '@stockgraph/testkit';
import postgres from 'postgres';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  finalStatuses,
  ledgerCheck,
  placeOrder,
  productWithStock,
  startOwnRedis,
  startSagaStack,
  stockOf,
} from '@stockgraph/testkit/saga';

/**
 * Crashes and outages in the middle of the saga: after each, every order reaches a final state, no
 * reservation is lost or made twice, and the ledger agrees with the stock columns.
 */
let redis: Awaited<ReturnType<typeof startOwnRedis>>;
let stack: Stack;
let prefix: string;
let staff: Record<string, string>;
let sql: postgres.Sql;
let inventory: ServiceProcess;
const ENV = { PLACE_ORDER_WAIT_MS: '0', SAGA_RETRY_MS: '3000' };

beforeAll(async () => {
  redis = await startOwnRedis();
  ({ stack, prefix } = await startSagaStack({ ...ENV, REDIS_URL: redis.url }));
  staff = await stack.as('STAFF');
  sql = postgres(stack.database.url, { max: 2 });
  inventory = stack.subgraphs.inventory;
});

afterAll(async () => {
  await inventory?.stop();
  await sql?.end();
  await stack?.stop();
  await redis?.remove();
});

/** An inventory process on the stack's database and this file's Redis. */
function startInventoryProcess(port: string): Promise<ServiceProcess> {
  return startProcess('subgraphs/inventory/src/server.ts', {
    PORT: port,
    DATABASE_URL: stack.database.url,
    DATABASE_POOL_MAX: '4',
    JWKS_URL: new URL('/.well-known/jwks.json', stack.subgraphs.users.url).toString(),
    REDIS_URL: redis.url,
    EVENTS_PREFIX: prefix,
    EVENTS_CLAIM_IDLE_MS: '1000',
  });
}

/** Starts inventory again on its old port, as a supervisor (Kubernetes) would after a crash. */
async function restartInventory(): Promise<void> {
  inventory = await startInventoryProcess(new URL(stack.subgraphs.inventory.url).port);
}

async function killInventory(): Promise<void> {
  inventory.child.kill('SIGKILL');
  await new Promise((r) =>
    inventory.child.exitCode !== null || inventory.child.signalCode !== null
      ? r(null)
      : inventory.child.once('exit', r),
  );
}

/** Every confirmed order holds exactly one reservation per item, and nothing else is reserved. */
async function expectReservationsExact(productId: string, statuses: Map<string, string>, unitsPerOrder = 1) {
  const rows = await sql`
    select order_id, count(*)::int as n from inventory.stock_movements
    where product_id = ${productId} and reason = 'RESERVATION' group by order_id`;
  const reservedOrders = new Map(rows.map((r) => [r.order_id as string, r.n as number]));
  for (const [id, status] of statuses)
    expect(reservedOrders.get(id) ?? 0, `${id} ${status}`).toBe(status === 'CONFIRMED' ? 1 : 0);
  const confirmed = [...statuses.values()].filter((s) => s === 'CONFIRMED').length;
  expect((await stockOf(stack, productId)).reserved).toBe(confirmed * unitsPerOrder);
  const check = await ledgerCheck(stack);
  expect(check.code, check.stderr).toBe(0);
}

describe('faults in the saga', () => {
  it('loses nothing when inventory is killed with orders in flight and started again', async () => {
    const productId = await productWithStock(stack, 40);
    const first = await Promise.all(
      Array.from({ length: 10 }, () => placeOrder(stack, staff, [{ productId, quantity: 1 }])),
    );
    await killInventory();
    // Orders keeps taking orders while inventory is down; they wait PENDING.
    const second = await Promise.all(
      Array.from({ length: 20 }, () => placeOrder(stack, staff, [{ productId, quantity: 1 }])),
    );
    for (const r of [...first, ...second]) expect(r.errors).toBeUndefined();
    expect(second.every((r) => r.data.placeOrder.status === 'PENDING')).toBe(true);
    await restartInventory();
    const statuses = await finalStatuses(
      stack,
      [...first, ...second].map((r) => r.data.placeOrder.id),
    );
    expect([...statuses.values()].every((s) => s === 'CONFIRMED')).toBe(true);
    await expectReservationsExact(productId, statuses);
  });

  it('keeps answering while Redis is down and catches up when it returns', async () => {
    const productId = await productWithStock(stack, 20);
    await redis.stop();
    const during = await Promise.all(
      Array.from({ length: 10 }, () => placeOrder(stack, staff, [{ productId, quantity: 1 }])),
    );
    for (const r of during) expect(r.data?.placeOrder?.status, JSON.stringify(r.errors)).toBe('PENDING');
    const read = await graphql(stack.gateway.url, '{ products(first: 1) { totalCount } }', {}, staff);
    expect(read.errors).toBeUndefined();
    await redis.start();
    const statuses = await finalStatuses(
      stack,
      during.map((r) => r.data.placeOrder.id),
      60_000,
    );
    expect([...statuses.values()].every((s) => s === 'CONFIRMED')).toBe(true);
    await expectReservationsExact(productId, statuses);
  });

  it('applies an event delivered twice only once', async () => {
    const productId = await productWithStock(stack, 5);
    const placed = (await placeOrder(stack, staff, [{ productId, quantity: 2 }])).data.placeOrder;
    const statuses = await finalStatuses(stack, [placed.id]);
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const entries = await client.xRange(`${prefix}orders`, '-', '+');
      const original = (entries ?? []).find((e) => {
        const envelope = JSON.parse(e.message.envelope!);
        return envelope.type === 'OrderPlaced' && envelope.payload.orderId === placed.id;
      })!;
      // The same event again (a redelivery), and the same order announced anew (the saga's retry).
      await client.xAdd(`${prefix}orders`, '*', original.message);
      const again = { ...JSON.parse(original.message.envelope!), id: '0190b3c4-0000-7000-8000-00000000abcd' };
      await client.xAdd(`${prefix}orders`, '*', { envelope: JSON.stringify(again) });
      await eventually(
        async () => {
          const [row] =
            await sql`select count(*)::int as n from inventory.processed_events where event_id = ${again.id}`;
          return row!.n === 1;
        },
        15_000,
        'duplicate consumed',
      );
      await eventually(
        async () => (await client.xPending(`${prefix}orders`, 'inventory')).pending === 0,
        15_000,
        'duplicates acknowledged',
      );
    } finally {
      await client.quit();
    }
    await expectReservationsExact(productId, statuses, 2);
  });

  it('reserves an order once even when two inventory replicas get copies of it, and a quick cancel releases it', async () => {
    const productId = await productWithStock(stack, 50);
    const replica = await startInventoryProcess('0');
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const placed = await Promise.all(
        Array.from({ length: 10 }, () => placeOrder(stack, staff, [{ productId, quantity: 1 }])),
      );
      const ids = placed.map((r) => r.data.placeOrder.id as string);
      // Every order announced three more times (the saga's retry), racing across both replicas.
      for (let copy = 0; copy < 3; copy++) {
        for (const id of ids) {
          const envelope = {
            id: `0190b3c4-0000-7000-8000-${String(copy).padStart(4, '0')}${id.slice(-8)}`,
            type: 'OrderPlaced',
            occurredAt: new Date().toISOString(),
            payload: { orderId: id, items: [{ productId, quantity: 1 }] },
          };
          await client.xAdd(`${prefix}orders`, '*', { envelope: JSON.stringify(envelope) });
        }
      }
      // Half are cancelled at once, perhaps before inventory saw them.
      const manager = await stack.as('MANAGER');
      await Promise.all(
        ids
          .slice(0, 5)
          .map((id) =>
            graphql(stack.gateway.url, 'mutation ($id: ID!) { cancelOrder(id: $id) { status } }', { id }, manager),
          ),
      );
      const statuses = await finalStatuses(stack, ids);
      await eventually(
        async () => (await client.xPending(`${prefix}orders`, 'inventory')).pending === 0,
        20_000,
        'all copies handled',
      );
      // The ledger first (a cancellation only reaches inventory once the orders relay has published it,
      // which on a loaded machine takes a while), then the API (its catalogue cache follows the ledger).
      const reservedInLedger = async () => {
        const [row] = await sql`select reserved from inventory.products where id = ${productId}`;
        return row!.reserved as number;
      };
      await eventually(async () => (await reservedInLedger()) === 5, 60_000, 'cancelled reservations released').catch(
        async (error: Error) => {
          const reservations =
            await sql`select order_id, status from inventory.reservations where order_id in ${sql(ids)}`;
          throw new Error(
            `${error.message}: reserved ${await reservedInLedger()}, orders ${JSON.stringify(Object.fromEntries(statuses))}, reservations ${JSON.stringify(reservations)}`,
          );
        },
      );
      await eventually(
        async () => (await stockOf(stack, productId)).reserved === 5,
        20_000,
        'the API answering what the ledger holds',
      );
      const rows =
        await sql`select order_id, sum(delta)::int as held from inventory.stock_movements where product_id = ${productId} and reason in ('RESERVATION', 'RELEASE') group by order_id`;
      const held = new Map(rows.map((r) => [r.order_id as string, r.held as number]));
      for (const id of ids)
        expect(held.get(id) ?? 0, `${id} ${statuses.get(id)}`).toBe(statuses.get(id) === 'CONFIRMED' ? 1 : 0);
      expect([...statuses.values()].filter((s) => s === 'CANCELLED')).toHaveLength(5);
      const check = await ledgerCheck(stack);
      expect(check.code, check.stderr).toBe(0);
    } finally {
      await client.quit();
      await replica.stop();
    }
  });

  it('keeps the newest price when price events arrive out of order', async () => {
    const productId = await productWithStock(stack, 5);
    const manager = await stack.as('MANAGER');
    for (const price of ['12.00', '15.00']) {
      await graphql(
        stack.gateway.url,
        'mutation ($id: ID!, $p: Decimal!) { updateProduct(id: $id, input: { unitPrice: $p }) { unitPrice } }',
        { id: productId, p: price },
        manager,
      );
    }
    await eventually(
      async () =>
        (await sql`select unit_price from orders.product_prices where product_id = ${productId}`)[0]?.unit_price ===
        '15.00',
      15_000,
      'newest price known',
    );
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const stale = {
        id: '0190b3c4-0000-7000-8000-00000000cafe',
        type: 'ProductPriceChanged',
        occurredAt: '2020-01-01T00:00:00Z',
        payload: { productId, unitPrice: '12.00', priceSince: '2020-01-01T00:00:00Z' },
      };
      await client.xAdd(`${prefix}inventory`, '*', { envelope: JSON.stringify(stale) });
      await eventually(
        async () => (await sql`select 1 from orders.processed_events where event_id = ${stale.id}`).length === 1,
        15_000,
        'stale price event consumed',
      );
    } finally {
      await client.quit();
    }
    expect(
      (await sql`select unit_price from orders.product_prices where product_id = ${productId}`)[0]?.unit_price,
    ).toBe('15.00');
    const order = (await placeOrder(stack, staff, [{ productId, quantity: 1 }])).data.placeOrder;
    expect(order.total).toBe('15.00');
  });

  it('does not apply twice an event whose consumer died between commit and acknowledgement', async () => {
    const productId = await productWithStock(stack, 5);
    await killInventory();
    // A stand-in inventory consumer that commits, then dies before it can acknowledge.
    const logger = createLogger('doomed-consumer', 'silent');
    const handle = await openDatabase({ url: stack.database.url, schema: inventoryTables, logger, poolMax: 2 });
    const bus = await createRedisBus(redis.url, prefix, logger);
    let committed = 0;
    const doomed = startConsumer({
      db: handle.db,
      bus,
      processed: inventoryTables.processedEvents,
      stream: 'orders',
      group: 'inventory',
      consumer: 'doomed',
      logger,
      claimIdleMs: 600_000,
      handle: (envelope, tx) => applyOrdersEvent(envelope, { tx, logger }),
      afterCommit: () => {
        committed++;
        throw new Error('process died before XACK');
      },
    });
    const placed = (await placeOrder(stack, staff, [{ productId, quantity: 3 }])).data.placeOrder;
    await eventually(async () => committed > 0, 15_000, 'doomed consumer committed');
    await doomed.stop();
    await bus.close();
    await handle.close();
    const [pending] = await sql`select count(*)::int as n from inventory.reservations where order_id = ${placed.id}`;
    expect(pending!.n).toBe(1);

    await restartInventory();
    const statuses = await finalStatuses(stack, [placed.id]);
    expect(statuses.get(placed.id)).toBe('CONFIRMED');
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      await eventually(
        async () => (await client.xPending(`${prefix}orders`, 'inventory')).pending === 0,
        15_000,
        'pending delivery claimed and acknowledged',
      );
    } finally {
      await client.quit();
    }
    await expectReservationsExact(productId, statuses, 3);
  });
});
