import { randomUUID } from 'node:crypto';
import { graphql, type Stack } from '@stockgraph/testkit';
import {
  demo,
  dropRedisKeys,
  eventually,
  finalStatuses,
  placeOrder,
  productWithStock,
  startSagaStack,
} from '@stockgraph/testkit/saga';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChecker, stockgraph } from './cli-support.js';

/**
 * `stockgraph check` (issue 30, item 4): every cross-service invariant the saga promises, proven on a
 * real stack after real orders, then each broken on purpose and named.
 */
let stack: Stack;
let prefix: string;
let sql: postgres.Sql;
const orderIds: string[] = [];
let productId: string;

interface Report {
  ok: boolean;
  invariants: { name: string; ok: boolean; count: number; violations: { key: string; detail: string }[] }[];
}

const check = async (...flags: string[]) => {
  const outcome = await stockgraph(['--json', 'check', ...flags], { DATABASE_URL: stack.database.url });
  return {
    code: outcome.code,
    stderr: outcome.stderr,
    report: outcome.code === 0 || outcome.code === 1 ? (JSON.parse(outcome.stdout) as Report) : null,
  };
};
const invariant = (report: Report | null, name: string) => report!.invariants.find((i) => i.name === name)!;

beforeAll(async () => {
  // Orders PENDING on purpose below must not be announced again by the saga's own retry meanwhile.
  ({ stack, prefix } = await startSagaStack({ SAGA_RETRY_MS: '3600000' }));
  sql = postgres(stack.database.url, { max: 2, onnotice: () => {} });
  productId = await productWithStock(stack, 20);
  const staff = await stack.as('STAFF');
  const manager = await stack.as('MANAGER');
  for (let i = 0; i < 6; i += 1) {
    const placed = await placeOrder(
      stack,
      staff,
      [{ productId, quantity: 2 }],
      randomUUID(),
      demo.customers[i % 3]!.id,
    );
    orderIds.push(placed.data.placeOrder.id as string);
  }
  await finalStatuses(stack, orderIds, 60_000);
  const cancel = await graphql(
    stack.gateway.url,
    'mutation ($id: ID!) { cancelOrder(id: $id) { status } }',
    { id: orderIds[0] },
    manager,
  );
  expect(cancel.errors).toBeUndefined();
  const fulfil = await graphql(
    stack.gateway.url,
    'mutation ($id: ID!) { fulfillOrder(id: $id) { status } }',
    { id: orderIds[1] },
    manager,
  );
  expect(fulfil.errors).toBeUndefined();
  // Inventory hears of both through events: wait until it has acted on them.
  await eventually(
    async () => (await sql`select reserved from inventory.products where id = ${productId}`)[0]!.reserved === 8,
    30_000,
    'inventory released and sold',
  );
}, 240_000);

afterAll(async () => {
  await sql?.end();
  await stack?.stop();
  await dropRedisKeys(prefix);
});

describe('stockgraph check', () => {
  it('finds every invariant holding after orders placed, cancelled and fulfilled', async () => {
    const { code, report, stderr } = await check('--grace', '0');
    expect(
      report?.invariants.filter((i) => !i.ok),
      stderr,
    ).toEqual([]);
    expect(code).toBe(0);
    expect(report!.invariants.map((i) => i.name)).toEqual([
      'reservations',
      'price-copies',
      'customer-copies',
      'outbox',
      'pending-orders',
      'ledger',
      'aggregates',
    ]);
  });

  it('refuses flags it cannot use', async () => {
    for (const flags of [
      ['--grace', '-1'],
      ['--outbox-bound', 'soon'],
      ['--metrics-port', '9464'],
    ]) {
      const outcome = await stockgraph(['check', ...flags], { DATABASE_URL: stack.database.url });
      expect(outcome.code, flags.join(' ')).toBe(2);
    }
  });

  it('names each violation, and the grace forgives what is still moving', async () => {
    const [cancelled, fulfilled, confirmed] = orderIds as [string, string, string];
    // A product's reserved column written around its ledger and reservations.
    await sql`update inventory.products set reserved = reserved + 1 where id = ${productId}`;
    // A CONFIRMED order cancelled in orders without inventory hearing of it.
    await sql`update orders.orders set status = 'CANCELLED' where id = ${confirmed}`;
    // A fulfilled order sent back to PENDING: stuck past any deadline.
    await sql`update orders.orders set status = 'PENDING' where id = ${fulfilled}`;
    // A price the orders service never heard of, and a customer it forgot.
    await sql`update orders.product_prices set unit_price = unit_price + 1 where product_id = ${productId}`;
    const forgotten = demo.customers[5]!.id;
    await sql`delete from orders.known_customers where customer_id = ${forgotten}`;
    // An event a relay holds a lease on and never publishes.
    const stuck = randomUUID();
    await sql`insert into orders.outbox (id, stream, type, payload, created_at, claimed_until)
      values (${stuck}, 'orders', 'Probe', '{}', now() - interval '10 minutes', now() + interval '1 hour')`;
    await new Promise((r) => setTimeout(r, 1500));

    const { code, report } = await check('--grace', '0', '--pending-deadline', '1');
    expect(code).toBe(1);
    expect(report!.ok).toBe(false);
    const keys = (name: string) => invariant(report, name).violations.map((v) => `${v.key}: ${v.detail}`);
    expect(keys('reservations')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^product .*\\(${productId}\\): reserved 9, RESERVED reservations hold 8$`)),
        expect.stringMatching(
          new RegExp(`^order ${confirmed}: inventory holds 2 × ${productId} reserved; the order is CANCELLED$`),
        ),
      ]),
    );
    expect(keys('pending-orders')).toEqual([expect.stringMatching(new RegExp(`\\(${fulfilled}\\): PENDING since`))]);
    expect(keys('price-copies')).toEqual([
      expect.stringMatching(new RegExp(`\\(${productId}\\): priced 9.99; orders has 10.99$`)),
    ]);
    expect(keys('customer-copies')).toEqual([
      `customer ${forgotten}: held by customers; unknown to orders (its orders would be refused)`,
    ]);
    expect(keys('outbox')).toEqual([expect.stringMatching(new RegExp(`^orders.outbox ${stuck}: Probe written`))]);
    expect(keys('ledger')).toEqual([expect.stringMatching(/reserved 9 vs ledger 8$/)]);
    expect(invariant(report, 'aggregates').ok).toBe(true);
    expect(cancelled).toBeDefined();

    // With a minute of grace the order changed seconds ago is a saga in motion; the column drift is not.
    await sql`update orders.orders set updated_at = now() where id = ${confirmed}`;
    const graced = await check('--grace', '60', '--pending-deadline', '1');
    expect(invariant(graced.report, 'reservations').violations.map((v) => v.key)).toEqual([
      expect.stringMatching(/^product /),
    ]);
  });

  it('serves the same checks as metrics with --watch, until stopped', async () => {
    const checker = await startChecker(stack.database.url, ['--grace', '0']);
    let text: string;
    try {
      text = await (await fetch(checker.url)).text();
    } finally {
      expect(await checker.stop()).toBe(0);
    }
    expect(text).toMatch(/stockgraph_invariant_violations\{invariant="reservations"\} [1-9]/);
    expect(text).toMatch(/stockgraph_invariant_violations\{invariant="aggregates"\} 0/);
    expect(text).toMatch(/stockgraph_invariant_check_success 1/);
    expect(text).toMatch(/stockgraph_invariant_check_timestamp_seconds \d/);
  });
});
