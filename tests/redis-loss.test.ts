import type { Stack } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  finalStatuses,
  ledgerCheck,
  placeOrder,
  productWithStock,
  startOwnRedis,
  startSagaStack,
  stockOf,
} from '@stockgraph/testkit/saga';

/**
 * Redis restarted with nothing in it (no append-only file, or a new node): the consumer groups are
 * gone with the streams, and so are the events in flight. No service is restarted; they must find
 * their way back on their own and every order must still become final.
 */
let redis: Awaited<ReturnType<typeof startOwnRedis>>;
let stack: Stack;

beforeAll(async () => {
  redis = await startOwnRedis();
  ({ stack } = await startSagaStack({ REDIS_URL: redis.url, PLACE_ORDER_WAIT_MS: '0', SAGA_RETRY_MS: '2000' }));
});

afterAll(async () => {
  const inventory = stack?.subgraphs.inventory.child;
  if (inventory?.exitCode === null) inventory.kill('SIGCONT');
  await stack?.stop();
  await redis?.remove();
});

describe('Redis losing all its data (finding 3)', () => {
  it('makes every order in flight final, without oversell, and the ledger agrees', async () => {
    const productId = await productWithStock(stack, 12);
    const staff = await stack.as('STAFF');
    // Inventory is frozen so the orders' events sit unprocessed in the stream when Redis loses them.
    stack.subgraphs.inventory.child.kill('SIGSTOP');
    let placed: Awaited<ReturnType<typeof placeOrder>>[];
    try {
      placed = await Promise.all(
        Array.from({ length: 20 }, () => placeOrder(stack, staff, [{ productId, quantity: 1 }])),
      );
      for (const r of placed) expect(r.data?.placeOrder?.status, JSON.stringify(r.errors)).toBe('PENDING');
      await redis.restartEmpty();
    } finally {
      stack.subgraphs.inventory.child.kill('SIGCONT');
    }
    const statuses = await finalStatuses(
      stack,
      placed.map((r) => r.data.placeOrder.id as string),
      60_000,
    );
    const confirmed = [...statuses.values()].filter((s) => s === 'CONFIRMED').length;
    expect(confirmed).toBe(12);
    expect([...statuses.values()].filter((s) => s === 'REJECTED')).toHaveLength(8);
    const stock = await stockOf(stack, productId);
    expect(stock).toMatchObject({ onHand: 12, reserved: 12, available: 0 });
    const check = await ledgerCheck(stack);
    expect(check.code, check.stderr).toBe(0);
  }, 120_000);
});
