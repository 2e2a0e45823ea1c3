import { randomUUID } from 'node:crypto';
import { graphql, run, type Stack } from '@stockgraph/testkit';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  demo,
  dropRedisKeys,
  eventually,
  finalStatuses,
  ledgerCheck,
  placeOrder,
  productWithStock,
  startSagaStack,
  stockOf,
} from '@stockgraph/testkit/saga';

/** Orders and inventory through real Postgres and Redis Streams, each service its own process. */
let stack: Stack;
let prefix: string;
let staff: Record<string, string>;
let manager: Record<string, string>;

beforeAll(async () => {
  ({ stack, prefix } = await startSagaStack());
  staff = await stack.as('STAFF');
  manager = await stack.as('MANAGER');
});

afterAll(async () => {
  await stack?.stop();
  if (prefix) await dropRedisKeys(prefix);
});

describe('placing orders against limited stock', () => {
  it('never oversells: 200 concurrent orders for 50 units confirm exactly 50', async () => {
    const productId = await productWithStock(stack, 50);
    const results = await Promise.all(
      Array.from({ length: 200 }, () => placeOrder(stack, staff, [{ productId, quantity: 1 }])),
    );
    for (const r of results) expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    const statuses = await finalStatuses(
      stack,
      results.map((r) => r.data.placeOrder.id),
    );
    const counts = [...statuses.values()].reduce<Record<string, number>>(
      (acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }),
      {},
    );
    expect(counts).toEqual({ CONFIRMED: 50, REJECTED: 150 });
    expect(await stockOf(stack, productId)).toEqual({ onHand: 50, reserved: 50, available: 0 });
    const check = await ledgerCheck(stack);
    expect(check.code, check.stderr).toBe(0);
  });

  it('rejects all of an order when one item is short, naming it, and reserves nothing', async () => {
    const plenty = await productWithStock(stack, 10);
    const scarce = await productWithStock(stack, 1);
    const result = await placeOrder(stack, staff, [
      { productId: plenty, quantity: 3 },
      { productId: scarce, quantity: 2 },
    ]);
    expect(result.data.placeOrder.status).toBe('REJECTED');
    expect(result.data.placeOrder.rejection).toEqual({
      code: 'INSUFFICIENT_STOCK',
      products: [{ product: { id: scarce }, requested: 2, available: 1 }],
    });
    expect((await stockOf(stack, plenty)).reserved).toBe(0);
    expect((await stockOf(stack, scarce)).reserved).toBe(0);
  });

  it('takes prices from inventory at placing time and totals them exactly', async () => {
    const productId = await productWithStock(stack, 100);
    const result = await placeOrder(stack, staff, [{ productId, quantity: 3 }]);
    expect(result.data.placeOrder).toMatchObject({ status: 'CONFIRMED', total: '29.97' });
  });
});

describe('idempotency', () => {
  it('creates one order for one key sent 20 times at once, and refuses the key for another order', async () => {
    const productId = await productWithStock(stack, 100);
    const key = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => placeOrder(stack, staff, [{ productId, quantity: 2 }], key)),
    );
    const ids = new Set(results.map((r) => r.data?.placeOrder?.id));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toEqual(expect.any(String));
    expect((await stockOf(stack, productId)).reserved).toBe(2);
    const reused = await placeOrder(stack, staff, [{ productId, quantity: 3 }], key);
    expect(reused.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });
});

describe('retried creating mutations', () => {
  it('create a product, receive goods and create a customer once per idempotency key', async () => {
    const key = randomUUID();
    const create = (name: string) =>
      graphql(
        stack.gateway.url,
        'mutation ($i: CreateProductInput!) { createProduct(input: $i) { id onHand } }',
        { i: { sku: `IDEM-${key.slice(0, 8)}`, name, unitPrice: '5.00', idempotencyKey: key } },
        manager,
      );
    const [a, b] = await Promise.all([create('Retried product'), create('Retried product')]);
    expect(a.data.createProduct.id).toBe(b.data.createProduct.id);
    expect((await create('Another name')).errors?.[0]?.extensions?.code).toBe('CONFLICT');

    const productId = a.data.createProduct.id;
    const receiptKey = randomUUID();
    const receive = () =>
      graphql(
        stack.gateway.url,
        'mutation ($id: ID!, $k: String) { receiveStock(productId: $id, quantity: 7, idempotencyKey: $k) { onHand } }',
        { id: productId, k: receiptKey },
        staff,
      );
    await Promise.all([receive(), receive(), receive()]);
    expect((await stockOf(stack, productId)).onHand).toBe(7);

    const customerKey = randomUUID();
    const customer = () =>
      graphql(
        stack.gateway.url,
        'mutation ($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }',
        { i: { name: 'Retry Customer', phone: '+49 30 1234567', idempotencyKey: customerKey } },
        staff,
      );
    const [c1, c2] = await Promise.all([customer(), customer()]);
    expect(c1.errors).toBeUndefined();
    expect(c1.data.createCustomer.id).toBe(c2.data.createCustomer.id);
    const byPhone = await graphql(stack.gateway.url, '{ customers(search: "1234567") { totalCount } }', {}, staff);
    expect(byPhone.data.customers.totalCount).toBe(1);
  });
});

describe('cancelling and fulfilling', () => {
  it('releases a cancelled reservation and turns a fulfilled one into a sale', async () => {
    const productId = await productWithStock(stack, 10);
    const a = (await placeOrder(stack, staff, [{ productId, quantity: 4 }])).data.placeOrder;
    const b = (await placeOrder(stack, staff, [{ productId, quantity: 3 }])).data.placeOrder;
    expect([a.status, b.status]).toEqual(['CONFIRMED', 'CONFIRMED']);
    expect(await stockOf(stack, productId)).toEqual({ onHand: 10, reserved: 7, available: 3 });

    const cancelled = await graphql(
      stack.gateway.url,
      'mutation ($id: ID!) { cancelOrder(id: $id) { status } }',
      { id: a.id },
      staff,
    );
    expect(cancelled.data.cancelOrder.status).toBe('CANCELLED');
    const fulfilled = await graphql(
      stack.gateway.url,
      'mutation ($id: ID!) { fulfillOrder(id: $id) { status } }',
      { id: b.id },
      manager,
    );
    expect(fulfilled.data.fulfillOrder.status).toBe('FULFILLED');
    await eventually(
      async () => {
        const s = await stockOf(stack, productId);
        return s.onHand === 7 && s.reserved === 0 && s.available === 7;
      },
      15_000,
      'stock released and sold',
    );

    const cancelFulfilled = await graphql(
      stack.gateway.url,
      'mutation ($id: ID!) { cancelOrder(id: $id) { status } }',
      { id: b.id },
      manager,
    );
    expect(cancelFulfilled.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const v4 = '6f1c2b7a-3d4e-4f5a-8b6c-7d8e9f0a1b2c';
    for (const mutation of ['cancelOrder', 'fulfillOrder']) {
      const unknown = await graphql(
        stack.gateway.url,
        `mutation ($id: ID!) { ${mutation}(id: $id) { status } }`,
        { id: v4 },
        manager,
      );
      expect(unknown.errors?.[0]?.extensions?.code, mutation).toBe('NOT_FOUND');
    }
    const fulfilCancelled = await graphql(
      stack.gateway.url,
      'mutation ($id: ID!) { fulfillOrder(id: $id) { status } }',
      { id: a.id },
      manager,
    );
    expect(fulfilCancelled.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const check = await ledgerCheck(stack);
    expect(check.code, check.stderr).toBe(0);
  });

  it('lets staff cancel only the orders they placed', async () => {
    const productId = await productWithStock(stack, 5);
    const byManager = (await placeOrder(stack, manager, [{ productId, quantity: 1 }])).data.placeOrder;
    const denied = await graphql(
      stack.gateway.url,
      'mutation ($id: ID!) { cancelOrder(id: $id) { status } }',
      { id: byManager.id },
      staff,
    );
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const mine = (await placeOrder(stack, staff, [{ productId, quantity: 1 }])).data.placeOrder;
    const allowed = await graphql(
      stack.gateway.url,
      'mutation ($id: ID!) { cancelOrder(id: $id) { status } }',
      { id: mine.id },
      staff,
    );
    expect(allowed.data.cancelOrder.status).toBe('CANCELLED');
  });
});

describe('bad orders', () => {
  it('refuses each with a clear code and writes nothing', async () => {
    const productId = await productWithStock(stack, 5);
    const sql = postgres(stack.database.url, { max: 1 });
    const count = async () => Number((await sql`select count(*)::int as n from orders.orders`)[0]!.n);
    try {
      const before = await count();
      const cases: [string, { productId: string; quantity: number }[], string?][] = [
        ['unknown customer', [{ productId, quantity: 1 }], '0190b3c4-0000-7000-8000-00000000dead'],
        ['unknown product', [{ productId: '0190b3c4-0000-7000-8000-00000000beef', quantity: 1 }]],
        ['zero quantity', [{ productId, quantity: 0 }]],
        ['absurd quantity', [{ productId, quantity: 1_000_000 }]],
        ['no items', []],
        [
          'same product twice',
          [
            { productId, quantity: 1 },
            { productId, quantity: 2 },
          ],
        ],
        ['malformed product id', [{ productId: "x'; drop table orders.orders; --", quantity: 1 }]],
      ];
      for (const [name, items, customerId] of cases) {
        const result = await placeOrder(stack, staff, items, randomUUID(), customerId ?? demo.customers[1]!.id);
        expect(result.errors?.[0]?.extensions?.code, `${name}: ${JSON.stringify(result.errors)}`).toBe(
          'BAD_USER_INPUT',
        );
      }
      const shortKey = await placeOrder(stack, staff, [{ productId, quantity: 1 }], 'abc');
      expect(shortKey.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(await count()).toBe(before);
      expect((await stockOf(stack, productId)).reserved).toBe(0);
    } finally {
      await sql.end();
    }
  });
});

describe('stock:check', () => {
  it('names the products whose stock disagrees with the ledger, and --rebuild mends them', async () => {
    const productId = await productWithStock(stack, 8);
    const sql = postgres(stack.database.url, { max: 1 });
    try {
      await sql`update inventory.products set on_hand = on_hand + 5 where id = ${productId}`;
      const broken = await ledgerCheck(stack);
      expect(broken.code).toBe(1);
      expect(broken.stderr).toMatch(/T-\w+ .*on hand 13 vs ledger 8/);
      const rebuilt = await run('subgraphs/inventory/src/stock-check.ts', { DATABASE_URL: stack.database.url }, [
        '--rebuild',
      ]);
      expect(rebuilt.code, rebuilt.stderr).toBe(0);
      expect((await stockOf(stack, productId)).onHand).toBe(8);
    } finally {
      await sql.end();
    }
  });
});
