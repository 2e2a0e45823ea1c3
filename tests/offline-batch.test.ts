import { randomUUID } from 'node:crypto';
import { graphql, type Stack } from '@stockgraph/testkit';
import { demo, dropRedisKeys, productWithStock, REDIS_URL, startSagaStack, stockOf } from '@stockgraph/testkit/saga';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Offline batches (issue 30, item 3): a handheld's queue of mutations replayed through the gateway in
 * order, one outcome each, every operation authorized and applied as if sent alone; a resend of the
 * batch changes nothing. Real services, Postgres and Redis (the gateway's ledger of done operations).
 */
let stack: Stack;
let prefix: string;
let staff: Record<string, string>;
let manager: Record<string, string>;
let product: string;
/** The order the batch placed. */
let orderId: string;

const SUBMIT = `mutation ($operations: [OfflineOperation!]!) {
  submitBatch(operations: $operations) {
    index idempotencyKey status code retryable
    order { id status } product { id onHand }
  }
}`;

interface Outcome {
  index: number;
  status: string;
  code: string | null;
  retryable: boolean;
  order: { id: string; status: string } | null;
  product: { id: string; onHand: number } | null;
}

const submit = async (operations: unknown[], headers: Record<string, string>, url = stack.gateway.url) => {
  const result = await graphql(url, SUBMIT, { operations }, headers);
  return result;
};
const outcomes = (result: { data?: { submitBatch?: Outcome[] } | null }) =>
  result.data!.submitBatch!.map(({ status, code, retryable }) => ({ status, code, retryable }));
const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();

beforeAll(async () => {
  ({ stack, prefix } = await startSagaStack());
  staff = await stack.as('STAFF');
  manager = await stack.as('MANAGER');
  product = await productWithStock(stack, 20);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (prefix) await dropRedisKeys(prefix);
});

describe('a batch recorded offline on a handheld', () => {
  const keys = Array.from({ length: 7 }, () => randomUUID());
  let batch: unknown[];

  it('applies each operation in order as the caller, refusing only the bad ones with their reasons', async () => {
    batch = [
      { idempotencyKey: keys[0], recordedAt: at(50), receiveStock: { productId: product, quantity: 10 } },
      {
        idempotencyKey: keys[1],
        recordedAt: at(40),
        placeOrder: { customerId: demo.customers[0]!.id, items: [{ productId: product, quantity: 25 }] },
      },
      // STAFF may not adjust stock: refused as adjustStock alone would be.
      {
        idempotencyKey: keys[2],
        recordedAt: at(30),
        adjustStock: { productId: product, delta: -1, reason: 'ADJUSTMENT' },
      },
      // Malformed: two operations in one item, a quantity the service refuses, a clock far ahead.
      {
        idempotencyKey: keys[3],
        recordedAt: at(20),
        receiveStock: { productId: product, quantity: 1 },
        cancelOrder: { id: randomUUID() },
      },
      { idempotencyKey: keys[4], recordedAt: at(10), receiveStock: { productId: product, quantity: 0 } },
      { idempotencyKey: keys[5], recordedAt: at(-60), receiveStock: { productId: product, quantity: 1 } },
      { idempotencyKey: keys[6], recordedAt: at(5), receiveStock: { productId: product, quantity: 2 } },
    ];
    const result = await submit(batch, staff);
    expect(result.errors).toBeUndefined();
    expect(outcomes(result)).toEqual([
      { status: 'DONE', code: null, retryable: false },
      { status: 'DONE', code: null, retryable: false },
      { status: 'REFUSED', code: 'FORBIDDEN', retryable: false },
      { status: 'REFUSED', code: 'BAD_USER_INPUT', retryable: false },
      { status: 'REFUSED', code: 'BAD_USER_INPUT', retryable: false },
      { status: 'REFUSED', code: 'BAD_USER_INPUT', retryable: false },
      { status: 'DONE', code: null, retryable: false },
    ]);
    const [received, placed] = result.data.submitBatch as Outcome[];
    // In order: the receipt came before the order, so its 30 units covered the order's 25. (The
    // outcome's product is read once the whole batch is through: its last receipt is counted too.)
    expect(received!.product).toEqual({ id: product, onHand: 32 });
    expect(placed!.order!.status).toBe('CONFIRMED');
    orderId = placed!.order!.id;
    expect(await stockOf(stack, product)).toEqual({ onHand: 32, reserved: 25, available: 7 });
  }, 60_000);

  it('changes nothing when the same batch is sent again, twice at once', async () => {
    const [first, second] = await Promise.all([submit(batch, staff), submit(batch, staff)]);
    for (const again of [first!, second!]) {
      expect(again.errors).toBeUndefined();
      expect(outcomes(again).map((o) => o.status)).toEqual([
        'ALREADY_DONE',
        'ALREADY_DONE',
        'REFUSED',
        'REFUSED',
        'REFUSED',
        'REFUSED',
        'ALREADY_DONE',
      ]);
    }
    expect(await stockOf(stack, product)).toEqual({ onHand: 32, reserved: 25, available: 7 });
  }, 60_000);

  it('refuses a key sent again with another operation, and applies nothing', async () => {
    const reused = [{ ...(batch[0] as object), receiveStock: { productId: product, quantity: 99 } }];
    expect(outcomes(await submit(reused, staff))).toEqual([{ status: 'REFUSED', code: 'CONFLICT', retryable: false }]);
    expect(await stockOf(stack, product)).toEqual({ onHand: 32, reserved: 25, available: 7 });
  });

  it('applies nothing twice even when the gateway forgot what it did (the services keep the keys)', async () => {
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      const forgotten = await redis.keys(`sgtest:${stack.database.name}:offline:*`);
      expect(forgotten.length).toBeGreaterThan(0);
      await redis.del(forgotten);
    } finally {
      await redis.quit();
    }
    const again = await submit(batch, staff);
    const placed = (again.data.submitBatch as Outcome[])[1]!;
    expect(placed.status).toBe('DONE');
    expect(placed.order!.id).toBe(orderId);
    expect(await stockOf(stack, product)).toEqual({ onHand: 32, reserved: 25, available: 7 });
  }, 60_000);

  it('refuses an empty or oversized batch as a whole, and a signed-out caller', async () => {
    const op = (i: number) => ({
      idempotencyKey: `key-${i}-${randomUUID()}`,
      recordedAt: at(1),
      receiveStock: { productId: product, quantity: 1 },
    });
    for (const operations of [[], Array.from({ length: 101 }, (_, i) => op(i))]) {
      const result = await submit(operations, staff);
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect((await submit([op(0)], {})).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await stockOf(stack, product)).onHand).toBe(32);
  });

  it('leaves a retryable refusal unremembered: sent again once the stocktake closed, it applies', async () => {
    const category = `offline-${randomUUID().slice(0, 8)}`;
    const counted = await productWithStock(stack, 5, category);
    const opened = await graphql(
      stack.gateway.url,
      'mutation ($c: String) { openStocktake(category: $c) { id } }',
      { c: category },
      manager,
    );
    const receipt = [
      { idempotencyKey: randomUUID(), recordedAt: at(1), receiveStock: { productId: counted, quantity: 4 } },
    ];
    expect(outcomes(await submit(receipt, staff))).toEqual([
      { status: 'REFUSED', code: 'STOCKTAKE_IN_PROGRESS', retryable: true },
    ]);
    await graphql(
      stack.gateway.url,
      'mutation ($id: ID!) { closeStocktake(id: $id) { id } }',
      { id: opened.data.openStocktake.id },
      manager,
    );
    expect(outcomes(await submit(receipt, staff))).toEqual([{ status: 'DONE', code: null, retryable: false }]);
    expect((await stockOf(stack, counted)).onHand).toBe(9);
  }, 60_000);

  it('meters every operation like one sent alone', async () => {
    // A budget that pays for the batch request (~25 points) and about two of its receipts (~4 each).
    // (Its own key prefix: the stack's gateway has spent this user's budget under the shared one.)
    const limited = await stack.startGateway({
      RATE_LIMIT_POINTS: '33',
      RATE_LIMIT_WINDOW_SECONDS: '60',
      REDIS_KEY_PREFIX: `${prefix}limited:`,
    });
    const operations = Array.from({ length: 6 }, () => ({
      idempotencyKey: randomUUID(),
      recordedAt: at(1),
      receiveStock: { productId: product, quantity: 1 },
    }));
    const result = await submit(operations, await stack.as('MANAGER'), limited.url);
    const statuses = outcomes(result);
    expect(statuses.at(-1)).toEqual({ status: 'REFUSED', code: 'RATE_LIMITED', retryable: true });
    const done = statuses.filter((s) => s.status === 'DONE').length;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(6);
    expect((await stockOf(stack, product)).onHand).toBe(32 + done);
  }, 60_000);
});
