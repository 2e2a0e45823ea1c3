import { partitionName, rowsOf } from '@stockgraph/db';
import { generateDemoData } from '@stockgraph/demo-data';
import { createMemoryBus, startHousekeeping } from '@stockgraph/events';
import { idTime, newId } from '@stockgraph/ids';
import { createLogger } from '@stockgraph/logger';
import { idempotencyKeys, outbox, processedEvents } from './db/schema.js';
import { graphql, useSubgraph } from '@stockgraph/testkit';
import { inArray, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { parseOrdersEnv, startOrders } from './app.js';

const demo = generateDemoData();
const service = useSubgraph('orders', startOrders, parseOrdersEnv);
/** Calls the subgraph with a manager's token (this file tests data, not rules). */
const call = async (query: string, variables: Record<string, unknown> = {}) =>
  graphql(service.current.url, query, variables, await service.as('MANAGER'));

type Edge = { node: { id: string } };

const revenue = (orders: typeof demo.orders) =>
  (
    orders
      .filter((o) => o.status === 'CONFIRMED' || o.status === 'FULFILLED')
      .reduce((s, o) => s + Math.round(Number(o.total) * 100), 0) / 100
  ).toFixed(2);

describe('orders subgraph', () => {
  it('resolves Order entities by @key(fields: "id") with their items', async () => {
    const order = demo.orders[100]!;
    const result = await call(
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id number status total items { quantity unitPrice product { id } } customer { id } } } }`,
      {
        r: [
          { __typename: 'Order', id: order.id },
          { __typename: 'Order', id: '0190b3c4-0000-7000-8000-000000000000' },
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data._entities[1]).toBeNull();
    const got = result.data._entities[0];
    expect(got).toMatchObject({
      id: order.id,
      number: order.number,
      status: order.status,
      total: order.total,
      customer: { id: order.customerId },
    });
    expect(got.items.map((i: { product: { id: string } }) => i.product.id).sort()).toEqual(
      order.items.map((i) => i.productId).sort(),
    );
  });

  it('resolves the Customer fields it contributes, batched across customers', async () => {
    const customers = demo.customers.slice(0, 3);
    const result = await call(
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id orderCount lifetimeValue orders(first: 2) { totalCount edges { node { id createdAt } } } } } }`,
      { r: customers.map((c) => ({ __typename: 'Customer', id: c.id })) },
    );
    expect(result.errors).toBeUndefined();
    type Entity = { orderCount: number; lifetimeValue: string; orders: { totalCount: number; edges: Edge[] } };
    result.data._entities.forEach((entity: Entity, i: number) => {
      const mine = demo.orders.filter((o) => o.customerId === customers[i]!.id);
      const newest = [...mine].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()).slice(0, 2);
      expect(entity.orderCount).toBe(mine.length);
      expect(entity.lifetimeValue).toBe(revenue(mine));
      expect(entity.orders.totalCount).toBe(mine.length);
      expect(entity.orders.edges.map((e) => e.node.id)).toEqual(newest.map((o) => o.id));
    });
  });

  it('resolves Product.unitsSold over a date range', async () => {
    const product = demo.products[3]!;
    const from = new Date(Date.now() - 180 * 86_400_000);
    const expected = demo.orders
      .filter((o) => o.status === 'FULFILLED' && o.createdAt >= from)
      .flatMap((o) => o.items)
      .filter((i) => i.productId === product.id)
      .reduce((s, i) => s + i.quantity, 0);
    const result = await call(
      `query ($r: [_Any!]!, $from: DateTime) { _entities(representations: $r) { ... on Product { id unitsSold(from: $from) } } }`,
      { r: [{ __typename: 'Product', id: product.id }], from: from.toISOString() },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data._entities[0]).toEqual({ id: product.id, unitsSold: expected });
  });

  it('pages all orders of a month newest first with no gaps or repeats', async () => {
    // A whole month inside the demo data, whatever day the tests run.
    const now = new Date();
    const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 3, 1));
    const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 2, 1));
    const expected = demo.orders.filter((o) => o.createdAt >= from && o.createdAt < to);
    const seen: string[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 50; guard++) {
      const page: Awaited<ReturnType<typeof call>> = await call(
        `query ($f: OrderFilter, $after: String) { orders(filter: $f, first: 100, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
        { f: { createdFrom: from.toISOString(), createdTo: to.toISOString() }, after },
      );
      expect(page.errors).toBeUndefined();
      expect(page.data.orders.totalCount).toBe(expected.length);
      seen.push(...page.data.orders.edges.map((e: Edge) => e.node.id));
      if (!page.data.orders.pageInfo.hasNextPage) break;
      after = page.data.orders.pageInfo.endCursor;
    }
    expect(expected.length).toBeGreaterThan(100);
    expect(seen).toEqual(
      [...expected]
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
        .map((o) => o.id),
    );
  });

  it('sums orders and revenue per month', async () => {
    const now = new Date();
    const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 6, 1));
    const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 3, 1));
    const result = await call(
      `query ($from: DateTime!, $to: DateTime!) { orderStats(from: $from, to: $to, interval: MONTH) { start orderCount revenue } }`,
      { from: from.toISOString(), to: to.toISOString() },
    );
    expect(result.errors).toBeUndefined();
    const months = [0, 1, 2].map((i) => new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + i, 1)));
    expect(result.data.orderStats.map((b: { start: string }) => b.start)).toEqual(months.map((m) => m.toISOString()));
    const first = demo.orders.filter((o) => o.createdAt >= months[0]! && o.createdAt < months[1]!);
    expect(first.length).toBeGreaterThan(100);
    expect(result.data.orderStats[0]).toMatchObject({ orderCount: first.length, revenue: revenue(first) });
  });

  it('stores orders and items in their month partitions and prunes lookups by id to one partition', async () => {
    const order = demo.orders[500]!;
    const placed = rowsOf<{ o: string; i: string }>(
      await service.current.db.execute(sql`select
        (select tableoid::regclass::text from orders.orders where id = ${order.id}) as o,
        (select distinct tableoid::regclass::text from orders.order_items where order_id = ${order.id}) as i`),
    )[0]!;
    expect(placed).toEqual({
      o: `orders.${partitionName('orders', order.createdAt)}`,
      i: `orders.${partitionName('order_items', order.createdAt)}`,
    });
    const plan = rowsOf<Record<string, string>>(
      await service.current.db.execute(
        sql`explain (costs off) select * from orders.orders where id = ${order.id}::uuid and created_at = ${idTime(order.id).toISOString()}::timestamptz`,
      ),
    )
      .map((r) => Object.values(r)[0])
      .join('\n');
    const scanned = plan.match(/on orders_\d{4}_\d{2}|on orders_default/g) ?? [];
    expect(scanned).toEqual([`on ${partitionName('orders', order.createdAt)}`]);
  });

  it('purges published outbox rows, processed-event records and idempotency keys past their retention', async () => {
    const db = service.current.db;
    const old = new Date(Date.now() - 40 * 86_400_000);
    const [stale, fresh, unpublished] = [newId(old), newId(), newId(old)];
    await db.insert(outbox).values([
      { id: stale, stream: 'orders', type: 'T', payload: {}, createdAt: old, publishedAt: old },
      { id: fresh, stream: 'orders', type: 'T', payload: {}, publishedAt: new Date() },
      { id: unpublished, stream: 'orders', type: 'T', payload: {}, createdAt: old },
    ]);
    await db.insert(processedEvents).values([
      { eventId: stale, type: 'T', processedAt: old },
      { eventId: fresh, type: 'T' },
    ]);
    await db.insert(idempotencyKeys).values([
      { userId: stale, key: 'old-key-0001', requestHash: 'h', resultId: stale, createdAt: old },
      { userId: fresh, key: 'new-key-0001', requestHash: 'h', resultId: fresh },
    ]);
    const housekeeping = startHousekeeping({
      db,
      bus: createMemoryBus(),
      outbox,
      processed: processedEvents,
      idempotency: { table: idempotencyKeys, createdAt: idempotencyKeys.createdAt },
      streams: ['orders'],
      logger: createLogger('t', 'silent'),
      intervalMs: 3_600_000,
    });
    await housekeeping.run();
    housekeeping.stop();
    const ids = (
      await db
        .select({ id: outbox.id })
        .from(outbox)
        .where(inArray(outbox.id, [stale, fresh, unpublished]))
    ).map((r) => r.id);
    expect(ids.sort()).toEqual([fresh, unpublished].sort());
    const processed = (
      await db
        .select({ id: processedEvents.eventId })
        .from(processedEvents)
        .where(inArray(processedEvents.eventId, [stale, fresh]))
    ).map((r) => r.id);
    expect(processed).toEqual([fresh]);
    const keys = (
      await db
        .select({ key: idempotencyKeys.key })
        .from(idempotencyKeys)
        .where(inArray(idempotencyKeys.userId, [stale, fresh]))
    ).map((r) => r.key);
    expect(keys).toEqual(['new-key-0001']);
  });

  it('refuses bad arguments with BAD_USER_INPUT', async () => {
    const cases = [
      `{ order(id: "abc") { id } }`,
      `{ orders(first: 500) { totalCount } }`,
      `{ orders(filter: { customerId: "x" }) { totalCount } }`,
      `{ orderStats(from: "2020-01-01", to: "2026-01-01", interval: DAY) { start } }`,
      `{ orderStats(from: "2026-01-01", to: "2025-01-01") { start } }`,
    ];
    for (const query of cases) {
      const result = await call(query);
      expect(result.errors?.[0]?.extensions?.code, query).toBe('BAD_USER_INPUT');
    }
    // A malformed DateTime in a variable is bad input; written inline in the document it fails validation.
    const variable = await call(`query ($f: OrderFilter) { orders(filter: $f) { totalCount } }`, {
      f: { createdFrom: 'yesterday' },
    });
    expect(variable.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const inline = await call(`{ orders(filter: { createdFrom: "yesterday" }) { totalCount } }`);
    expect(inline.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
