import { randomUUID } from 'node:crypto';
import { graphql, type Stack } from '@stockgraph/testkit';
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stockgraph } from './cli-support.js';
import { openSse, type SseStream } from './subscription-support.js';

/**
 * Stocktakes (issue 30, item 2) through the gateway, with orders flowing through the saga over real
 * Redis Streams: a category is frozen while it is counted, orders for other products go on, counts
 * come from several devices at once, and closing books the differences from the ledger as adjustments.
 */
let stack: Stack;
let prefix: string;
let staff: Record<string, string>;
let manager: Record<string, string>;
const counted = `count-${randomUUID().slice(0, 8)}`;
const elsewhere = `other-${randomUUID().slice(0, 8)}`;
/** Products of the counted category: a (an order reserved before the count), b, c; d in another category. */
let a: string, b: string, c: string, d: string;
let stocktakeId: string;
/** An order for a confirmed before the stocktake opened: it ships while the count goes on. */
let reservedBefore: string;
let progress: SseStream;

const STOCKTAKE = `id status category total counted openedAt closedAt
  lines(first: 10) { edges { node { product { id } onHandAtOpen counted expected difference applied } } }`;
const OPEN = `mutation ($category: String) { openStocktake(category: $category) { ${STOCKTAKE} } }`;
const COUNT = `mutation ($s: ID!, $p: ID!, $n: Int!) {
  recordStocktakeCount(stocktakeId: $s, productId: $p, counted: $n) { product { id } counted expected difference }
}`;
const CLOSE = `mutation ($id: ID!) { closeStocktake(id: $id) { ${STOCKTAKE} } }`;
const ADJUST = `mutation ($id: ID!, $d: Int!) { adjustStock(productId: $id, delta: $d, reason: ADJUSTMENT) { onHand } }`;
const RECEIVE = `mutation ($id: ID!, $q: Int!) { receiveStock(productId: $id, quantity: $q) { onHand } }`;
const PLACE = `mutation ($input: PlaceOrderInput!) {
  placeOrder(input: $input) { id status rejection { code products { product { id } stocktakeId } } }
}`;

const place = (productId: string, quantity = 1) =>
  graphql(
    stack.gateway.url,
    PLACE,
    {
      input: {
        customerId: demo.customers[0]!.id,
        items: [{ productId, quantity }],
        idempotencyKey: randomUUID(),
      },
    },
    staff,
  );

beforeAll(async () => {
  ({ stack, prefix } = await startSagaStack());
  staff = await stack.as('STAFF');
  manager = await stack.as('MANAGER');
  [a, b, c, d] = await Promise.all([
    productWithStock(stack, 100, counted),
    productWithStock(stack, 50, counted),
    productWithStock(stack, 20, counted),
    productWithStock(stack, 100, elsewhere),
  ]);
}, 120_000);

afterAll(async () => {
  progress?.close();
  await stack?.stop();
  if (prefix) await dropRedisKeys(prefix);
});

describe('a stocktake of one category while orders flow', () => {
  it('freezes only its category: orders for it are rejected with the reason, others confirmed, none stuck', async () => {
    const before = await placeOrder(stack, staff, [{ productId: a, quantity: 5 }]);
    expect(before.data.placeOrder.status).toBe('CONFIRMED');
    reservedBefore = before.data.placeOrder.id;

    // Orders for both categories keep coming while the stocktake opens.
    let flowing = true;
    const placed: { productId: string; id: string }[] = [];
    const flow = (async () => {
      while (flowing) {
        for (const productId of [b, d]) {
          const result = await placeOrder(stack, staff, [{ productId, quantity: 1 }]);
          expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
          placed.push({ productId, id: result.data.placeOrder.id });
        }
      }
    })();
    await eventually(async () => placed.length >= 6, 30_000, 'orders flowing');
    const opened = await graphql(stack.gateway.url, OPEN, { category: counted }, manager);
    expect(opened.errors).toBeUndefined();
    await eventually(async () => placed.length >= 12, 30_000, 'orders flowing after the opening');
    flowing = false;
    await flow;

    stocktakeId = opened.data.openStocktake.id;
    expect(opened.data.openStocktake).toMatchObject({ status: 'OPEN', category: counted, total: 3, counted: 0 });
    const lines = opened.data.openStocktake.lines.edges.map((e: { node: unknown }) => e.node);
    expect(lines).toHaveLength(3);
    // On hand when it opened: a has 5 reserved but all 100 on the shelf; each line is the ledger at the
    // opening moment, as stockAt answers it.
    expect(lines.find((l: { product: { id: string } }) => l.product.id === a).onHandAtOpen).toBe(100);
    for (const line of lines as { product: { id: string }; onHandAtOpen: number }[]) {
      const asOf = await graphql(
        stack.gateway.url,
        'query ($id: ID!, $at: DateTime!) { product(id: $id) { stockAt(at: $at) { onHand } } }',
        { id: line.product.id, at: opened.data.openStocktake.openedAt },
        staff,
      );
      expect(asOf.data.product.stockAt.onHand).toBe(line.onHandAtOpen);
    }

    // Every order reached a final state; those for the counted category after the opening were refused.
    const statuses = await finalStatuses(
      stack,
      placed.map((p) => p.id),
    );
    const forD = placed.filter((p) => p.productId === d).map((p) => statuses.get(p.id));
    expect(new Set(forD)).toEqual(new Set(['CONFIRMED']));
    const refused = await place(b);
    expect(refused.data.placeOrder.status).toBe('REJECTED');
    expect(refused.data.placeOrder.rejection).toEqual({
      code: 'STOCKTAKE_IN_PROGRESS',
      products: [{ product: { id: b }, stocktakeId }],
    });
    expect((await place(d)).data.placeOrder.status).toBe('CONFIRMED');
  }, 120_000);

  it('refuses receipts and adjustments of its products with a retryable code naming it', async () => {
    for (const [mutation, variables] of [
      [ADJUST, { id: a, d: -1 }],
      [RECEIVE, { id: c, q: 10 }],
    ] as const) {
      const result = await graphql(stack.gateway.url, mutation, variables, manager);
      expect(result.errors?.[0]?.extensions).toMatchObject({
        code: 'STOCKTAKE_IN_PROGRESS',
        stocktakeId,
        retryable: true,
      });
    }
    expect((await graphql(stack.gateway.url, ADJUST, { id: d, d: -1 }, manager)).data.adjustStock.onHand).toBe(99);
    // An overlapping stocktake (the whole catalogue) is refused while this one is open.
    const overlapping = await graphql(stack.gateway.url, OPEN, {}, manager);
    expect(overlapping.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', stocktakeId });
  });

  it('takes counts from several devices at once, idempotently, and reports progress live', async () => {
    progress = await openSse(
      stack.gateway.url,
      'subscription ($id: ID!) { stocktakeProgress(id: $id) { status counted total stocktake { id counted } } }',
      { id: stocktakeId },
      staff,
    );
    expect(progress.status).toBe(200);
    // The order reserved before the opening ships during the count: 5 units leave the shelf.
    const fulfilled = await graphql(
      stack.gateway.url,
      'mutation ($id: ID!) { fulfillOrder(id: $id) { status } }',
      { id: reservedBefore },
      manager,
    );
    expect(fulfilled.errors).toBeUndefined();
    await eventually(async () => (await stockOf(stack, a)).onHand === 95, 30_000, 'the sale booked');

    const bOnHand = (await stockOf(stack, b)).onHand;
    // Two devices send the same counts at the same time, and one resends.
    const counts = [
      { p: a, n: 92 },
      { p: b, n: bOnHand + 2 },
    ];
    const sent = await Promise.all(
      [...counts, ...counts, counts[0]!].map(({ p, n }) =>
        graphql(stack.gateway.url, COUNT, { s: stocktakeId, p, n }, staff),
      ),
    );
    for (const result of sent) expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    expect(sent[0]!.data.recordStocktakeCount).toMatchObject({ counted: 92, expected: 95, difference: -3 });
    expect(sent[1]!.data.recordStocktakeCount).toMatchObject({ expected: bOnHand, difference: 2 });

    // One event per count that changed something: the repeats are not announced.
    const first = await progress.events.next(30_000, 'the first count');
    const second = await progress.events.next(30_000, 'the second count');
    expect([first.data, second.data].map((e) => e.data.stocktakeProgress.counted).sort()).toEqual([1, 2]);
    expect(second.data.data.stocktakeProgress).toMatchObject({ status: 'OPEN', total: 3 });

    // A recount replaces the count.
    const recount = await graphql(stack.gateway.url, COUNT, { s: stocktakeId, p: a, n: 93 }, staff);
    expect(recount.data.recordStocktakeCount.difference).toBe(-2);
    expect((await progress.events.next(30_000, 'the recount')).data.data.stocktakeProgress.counted).toBe(2);
  }, 120_000);

  it('refuses counts it cannot take with coded errors', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ s: stocktakeId, p: a, n: -1 }, 'BAD_USER_INPUT'],
      [{ s: stocktakeId, p: d, n: 3 }, 'BAD_USER_INPUT'],
      [{ s: randomUUID(), p: a, n: 3 }, 'NOT_FOUND'],
      [{ s: 'not-an-id', p: a, n: 3 }, 'BAD_USER_INPUT'],
    ];
    for (const [variables, code] of cases) {
      const result = await graphql(stack.gateway.url, COUNT, variables, staff);
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe(code);
    }
    const viewer = await stack.as('VIEWER');
    expect(
      (await graphql(stack.gateway.url, COUNT, { s: stocktakeId, p: a, n: 3 }, viewer)).errors?.[0]?.extensions?.code,
    ).toBe('FORBIDDEN');
    expect((await graphql(stack.gateway.url, CLOSE, { id: stocktakeId }, staff)).errors?.[0]?.extensions?.code).toBe(
      'FORBIDDEN',
    );
  });

  it('reports the variances, and closing books them in one go and lifts the freeze', async () => {
    const report = await graphql(
      stack.gateway.url,
      `
        query ($id: ID!) {
          stocktake(id: $id) {
            counted
            lines(onlyDifferences: true) {
              edges {
                node {
                  product {
                    id
                  }
                  difference
                }
              }
            }
          }
        }
      `,
      { id: stocktakeId },
      staff,
    );
    expect(report.data.stocktake.counted).toBe(2);
    // Lines come sorted by SKU.
    const sku = async (id: string) =>
      (await graphql(stack.gateway.url, 'query ($id: ID!) { product(id: $id) { sku } }', { id }, staff)).data.product
        .sku as string;
    const differences = [
      { product: { id: a }, difference: -2, sku: await sku(a) },
      { product: { id: b }, difference: 2, sku: await sku(b) },
    ].sort((x, y) => (x.sku < y.sku ? -1 : 1));
    expect(report.data.stocktake.lines.edges.map((e: { node: unknown }) => e.node)).toEqual(
      differences.map(({ sku: _sku, ...line }) => line),
    );

    const bBefore = (await stockOf(stack, b)).onHand;
    const closed = await graphql(stack.gateway.url, CLOSE, { id: stocktakeId }, manager);
    expect(closed.errors).toBeUndefined();
    expect(closed.data.closeStocktake.status).toBe('CLOSED');
    expect(closed.data.closeStocktake.closedAt).toBeTruthy();
    const applied = Object.fromEntries(
      closed.data.closeStocktake.lines.edges.map((e: { node: { product: { id: string }; applied: number | null } }) => [
        e.node.product.id,
        e.node.applied,
      ]),
    );
    // c was never counted: it keeps the ledger's level.
    expect(applied).toEqual({ [a]: -2, [b]: 2, [c]: null });
    expect((await stockOf(stack, a)).onHand).toBe(93);
    expect((await stockOf(stack, b)).onHand).toBe(bBefore + 2);
    const closing = await progress.events.next(30_000, 'the closing');
    expect(closing.data.data.stocktakeProgress).toMatchObject({ status: 'CLOSED', counted: 2, total: 3 });

    // The adjustments are in the ledger, named after the stocktake.
    const movements = await graphql(
      stack.gateway.url,
      'query ($id: ID!) { product(id: $id) { movements(first: 1) { edges { node { reason delta note } } } } }',
      { id: a },
      staff,
    );
    expect(movements.data.product.movements.edges[0].node).toEqual({
      reason: 'ADJUSTMENT',
      delta: -2,
      note: `stocktake ${stocktakeId}`,
    });

    // The freeze is lifted; a closed stocktake takes no counts and does not close twice.
    expect((await graphql(stack.gateway.url, ADJUST, { id: a, d: -1 }, manager)).data.adjustStock.onHand).toBe(92);
    expect((await place(b)).data.placeOrder.status).toBe('CONFIRMED');
    const late = await graphql(stack.gateway.url, COUNT, { s: stocktakeId, p: a, n: 1 }, staff);
    expect(late.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await graphql(stack.gateway.url, CLOSE, { id: stocktakeId }, manager)).errors?.[0]?.extensions?.code).toBe(
      'CONFLICT',
    );
  }, 60_000);

  it('leaves every cross-service invariant holding (stockgraph check)', async () => {
    expect((await ledgerCheck(stack)).code).toBe(0);
    const outcome = await stockgraph(['check', '--grace', '0'], { DATABASE_URL: stack.database.url });
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
  }, 120_000);
});
