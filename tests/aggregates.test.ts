import { graphql, type Stack } from '@stockgraph/testkit';
import { newId } from '@stockgraph/ids';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stockgraph } from './cli-support.js';
import {
  demo,
  dropRedisKeys,
  eventually,
  finalStatuses,
  placeOrder,
  productWithStock,
  startSagaStack,
} from '@stockgraph/testkit/saga';

/**
 * The counters and rollups of orders and inventory (trigger-kept, migration 0005 of each) against the
 * raw rows: after every kind of write of the saga, as the API reads them, after a bulk load that skipped
 * the triggers, and after `partitions archive` (they describe the live tables only, migration 0006).
 */
let stack: Stack;
let prefix: string;
let sql: postgres.Sql;
let manager: Record<string, string>;

const DAY = 86_400_000;
const call = async (query: string, variables: Record<string, unknown> = {}) => {
  const result = await graphql(stack.gateway.url, query, variables, manager);
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data;
};
const check = (json = true) => stockgraph([...(json ? ['--json'] : []), 'aggregates', 'check'], env());
const env = () => ({ DATABASE_URL: stack.database.url });

beforeAll(async () => {
  // These tests change the tables around the services (bulk loads, the CLI's archive and rebuild) and
  // read the counts at once: the gateway's response cache sees such changes only when its entries expire
  // (docs/operators/operate.md, "Response cache"), so it is off here.
  ({ stack, prefix } = await startSagaStack({ RESPONSE_CACHE: 'false' }));
  manager = await stack.as('MANAGER');
  sql = postgres(stack.database.url, { max: 2, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
  await stack?.stop();
  if (prefix) await dropRedisKeys(prefix);
});

/** orderStats as the rows say, the way it was computed before the rollups. */
async function rawStats(from: Date, to: Date, interval: 'DAY' | 'WEEK' | 'MONTH') {
  const unit = interval.toLowerCase();
  const rows = await sql.unsafe<{ start: Date; order_count: number; revenue: string }[]>(
    `with buckets as (
       select generate_series(date_trunc('${unit}', $1::timestamptz at time zone 'UTC'),
         $2::timestamptz at time zone 'UTC' - interval '1 microsecond', '1 ${unit}'::interval) as start
     ), totals as (
       select date_trunc('${unit}', created_at at time zone 'UTC') as start, count(*)::int as order_count,
         coalesce(sum(total) filter (where status in ('CONFIRMED', 'FULFILLED')), 0) as revenue
       from orders.orders where created_at >= $1 and created_at < $2 group by 1
     )
     select (b.start at time zone 'UTC') as start, coalesce(t.order_count, 0)::int as order_count,
       coalesce(t.revenue, 0)::numeric(14, 2)::text as revenue
     from buckets b left join totals t on t.start = b.start order by b.start`,
    [from.toISOString(), to.toISOString()],
  );
  return rows.map((r) => ({ start: r.start.toISOString(), orderCount: r.order_count, revenue: r.revenue }));
}

interface Filter {
  status?: string;
  customerId?: string;
  createdFrom?: string;
  createdTo?: string;
}

async function rawCount(f: Filter): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from orders.orders
    where (${f.status ?? null}::text is null or status::text = ${f.status ?? null})
      and (${f.customerId ?? null}::uuid is null or customer_id = ${f.customerId ?? null})
      and (${f.createdFrom ?? null}::timestamptz is null or created_at >= ${f.createdFrom ?? null})
      and (${f.createdTo ?? null}::timestamptz is null or created_at < ${f.createdTo ?? null})`;
  return row!.n;
}

async function rawUnits(productId: string, from: string | null, to: string | null): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select coalesce(sum(i.quantity), 0)::int as n from orders.order_items i
    join orders.orders o on o.id = i.order_id and o.created_at = i.created_at
    where i.product_id = ${productId} and o.status = 'FULFILLED'
      and (${from}::timestamptz is null or o.created_at >= ${from})
      and (${to}::timestamptz is null or o.created_at < ${to})`;
  return row!.n;
}

async function rawCustomerTotals(customerId: string) {
  const [row] = await sql<{ n: number; v: string }[]>`
    select count(*)::int as n,
      coalesce(sum(total) filter (where status in ('CONFIRMED', 'FULFILLED')), 0)::numeric(14, 2)::text as v
    from orders.orders where customer_id = ${customerId}`;
  return { orderCount: row!.n, lifetimeValue: row!.v };
}

/** An instant `days` days ago plus some hours and minutes: never on a UTC midnight. */
const ago = (days: number, hours = 7.4) =>
  new Date(Math.floor((Date.now() - days * DAY) / DAY) * DAY + hours * 3_600_000);

describe('aggregates follow every write of the saga', () => {
  it('equal the raw rows after place, confirm, reject, cancel and fulfil, as the API and the check read them', async () => {
    const staff = await stack.as('STAFF');
    const productId = await productWithStock(stack, 5);
    const buyers = [demo.customers[1]!.id, demo.customers[2]!.id];
    const placed = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        placeOrder(stack, staff, [{ productId, quantity: 1 }], undefined, buyers[i % 2]),
      ),
    );
    const ids = placed.map((p) => p.data.placeOrder.id as string);
    const statuses = await finalStatuses(stack, ids);
    const confirmed = ids.filter((id) => statuses.get(id) === 'CONFIRMED');
    expect(confirmed).toHaveLength(5);
    await call('mutation ($id: ID!) { cancelOrder(id: $id) { status } }', { id: confirmed[0] });
    for (const id of confirmed.slice(1, 3))
      await call('mutation ($id: ID!) { fulfillOrder(id: $id) { status } }', { id });

    const result = await check();
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, differences: [] });

    const data = await call(
      `query ($p: ID!) {
        product(id: $p) { unitsSold movements(first: 1) { totalCount } }
        a: orders(filter: { customerId: "${buyers[0]}" }) { totalCount }
        b: orders(filter: { customerId: "${buyers[1]}", status: REJECTED }) { totalCount }
        all: orders { totalCount }
        fulfilled: orders(filter: { status: FULFILLED }) { totalCount }
      }`,
      { p: productId },
    );
    expect(data.product.unitsSold).toBe(2);
    const [movements] = await sql<{ n: number }[]>`
      select count(*)::int as n from inventory.stock_movements where product_id = ${productId}`;
    expect(data.product.movements.totalCount).toBe(movements!.n);
    expect(data.a.totalCount).toBe(await rawCount({ customerId: buyers[0] }));
    expect(data.b.totalCount).toBe(await rawCount({ customerId: buyers[1], status: 'REJECTED' }));
    expect(data.all.totalCount).toBe(await rawCount({}));
    expect(data.fulfilled.totalCount).toBe(await rawCount({ status: 'FULFILLED' }));
    for (const customerId of buyers) {
      const customer = await call(
        'query ($id: ID!) { customer(id: $id) { orderCount lifetimeValue orders(first: 3) { totalCount } } }',
        { id: customerId },
      );
      const expected = await rawCustomerTotals(customerId);
      expect(customer.customer).toMatchObject(expected);
      expect(customer.customer.orders.totalCount).toBe(expected.orderCount);
    }
  });
});

describe('aggregate deltas', () => {
  const deltas = async () =>
    (
      await sql<{ n: number }[]>`
        select ((select count(*) from orders.order_total_deltas) + (select count(*) from orders.product_unit_deltas))::int as n`
    )[0]!.n;

  it('writers append their changes instead of updating shared rows, and the service folds them into the totals', async () => {
    const staff = await stack.as('STAFF');
    const productId = await productWithStock(stack, 10);
    // No fold while these commit: every order's change must be a delta row of its own.
    await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext('orders.aggregates_fold'))`;
      const placed = await Promise.all(
        Array.from({ length: 6 }, () => placeOrder(stack, staff, [{ productId, quantity: 1 }])),
      );
      await finalStatuses(
        stack,
        placed.map((p) => p.data.placeOrder.id as string),
      );
      const [row] = await tx<{ n: number }[]>`
        select count(*)::int as n from orders.order_total_deltas where customer_id = ${demo.customers[0]!.id}`;
      // Placed PENDING (one delta each), then confirmed (one taken from PENDING, one added to CONFIRMED).
      expect(row!.n).toBeGreaterThanOrEqual(18);
      const result = await check();
      expect(result.code, result.stderr + result.stdout).toBe(0);
    });
    // The lock is gone: the next fold moves them.
    await eventually(async () => (await deltas()) === 0, 10_000, 'the deltas are folded');
    const result = await check();
    expect(result.code, result.stderr + result.stdout).toBe(0);
  });
});

describe('rollup answers equal a recomputation over the rows', () => {
  const ranges: [string, Date, Date][] = [
    ['partial days at both ends', ago(200, 7.4), ago(20, 13.2)],
    ['midnight to midnight', ago(120, 0), ago(30, 0)],
    ['inside one day', ago(40, 1.5), ago(40, 22.25)],
    ['across one midnight', ago(41, 20), ago(40, 3)],
    ['up to now and past it', ago(60, 9.9), new Date(Date.now() + 3 * DAY)],
  ];

  it.each(ranges)('orderStats per DAY, WEEK and MONTH: %s', async (_name, from, to) => {
    for (const interval of ['DAY', 'WEEK', 'MONTH'] as const) {
      const data = await call(
        'query ($f: DateTime!, $t: DateTime!, $i: StatsInterval) { orderStats(from: $f, to: $t, interval: $i) { start orderCount revenue } }',
        { f: from.toISOString(), t: to.toISOString(), i: interval },
      );
      expect(data.orderStats, interval).toEqual(await rawStats(from, to, interval));
    }
  });

  it.each(ranges)('totalCount for every filter combination and unitsSold: %s', async (_name, fromDate, toDate) => {
    const [from, to] = [fromDate.toISOString(), toDate.toISOString()];
    const customerId = demo.customers[3]!.id;
    const filters: Filter[] = [
      { createdFrom: from },
      { createdTo: to },
      { createdFrom: from, createdTo: to },
      { status: 'CONFIRMED', createdFrom: from, createdTo: to },
      { status: 'FULFILLED', createdTo: to },
      { customerId, createdFrom: from, createdTo: to },
      { customerId, status: 'FULFILLED', createdFrom: from },
      { customerId },
      { customerId, status: 'CANCELLED' },
      { status: 'REJECTED' },
      {},
    ];
    for (const filter of filters) {
      const data = await call('query ($f: OrderFilter) { orders(filter: $f, first: 1) { totalCount } }', {
        f: filter,
      });
      expect(data.orders.totalCount, JSON.stringify(filter)).toBe(await rawCount(filter));
    }
    expect(await rawCount({ createdFrom: from, createdTo: to })).toBeGreaterThan(0);
    const [sold] = await sql<{ product_id: string }[]>`
      select i.product_id from orders.order_items i join orders.orders o on o.id = i.order_id and o.created_at = i.created_at
      where o.status = 'FULFILLED' and o.created_at >= ${from} and o.created_at < ${to}
      group by 1 order by sum(i.quantity) desc limit 1`;
    const productId = sold?.product_id ?? demo.products[0]!.id;
    const args: [string | null, string | null][] = [
      [from, to],
      [from, null],
      [null, to],
      [null, null],
    ];
    for (const [f, t] of args) {
      const data = await call(
        'query ($p: ID!, $f: DateTime, $t: DateTime) { product(id: $p) { unitsSold(from: $f, to: $t) } }',
        {
          p: productId,
          f,
          t,
        },
      );
      expect(data.product.unitsSold, `${f}..${t}`).toBe(await rawUnits(productId, f, t));
    }
  });

  it("pages a customer's orders per status newest first, across pages, as the rows order them", async () => {
    const customers = demo.customers.slice(0, 4).map((c) => c.id);
    for (const status of [null, 'FULFILLED', 'CANCELLED'] as const) {
      const seen = new Map<string, string[]>(customers.map((c) => [c, []]));
      const query = `query ($s: OrderStatus, $a: String) {
        ${customers.map((c, i) => `c${i}: customer(id: "${c}") { orders(first: 4, status: $s, after: $a) { edges { node { id } } pageInfo { endCursor } } }`).join('\n')}
      }`;
      type Page = { orders: { edges: { node: { id: string } }[]; pageInfo: { endCursor: string | null } } };
      // Every customer of the batch gets the same `after`: the first customer's pages are walked, the others' first page checked.
      let after: string | null = null;
      for (let page = 0; page < 3; page++) {
        const data: Record<string, Page> = await call(query, { s: status, a: after });
        customers.forEach((c, i) => {
          if (i === 0 || page === 0) seen.get(c)!.push(...data[`c${i}`]!.orders.edges.map((e) => e.node.id));
        });
        after = data.c0!.orders.pageInfo.endCursor;
        if (!after) break;
      }
      for (const [customerId, ids] of seen) {
        const expected = await sql<{ id: string }[]>`
          select id from orders.orders where customer_id = ${customerId} and (${status}::text is null or status::text = ${status})
          order by created_at desc, id desc limit ${ids.length}`;
        expect(ids, `${customerId} ${status}`).toEqual(expected.map((r) => r.id));
      }
    }
  });
});

describe('stockgraph aggregates', () => {
  it('refuses misuse with exit 2', async () => {
    for (const args of [
      ['aggregates', 'recount'],
      ['aggregates', 'check', 'orders'],
      ['aggregates', 'rebuild', '--fast'],
    ]) {
      const result = await stockgraph(args, env());
      expect(result.code, args.join(' ')).toBe(2);
    }
  });

  it('finds what a bulk load without triggers left out, names it, and a rebuild brings every aggregate in line', async () => {
    const customerId = demo.customers[5]!.id;
    const productId = demo.products[2]!.id;
    const at = ago(3, 11);
    const id = newId(at);
    const before = (await call(`{ orders(filter: { customerId: "${customerId}" }) { totalCount } }`)).orders.totalCount;
    await sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`insert into orders.orders (id, created_at, number, customer_id, status, total)
        values (${id}, ${at}, 'SG-BULK-1', ${customerId}, 'FULFILLED', 42.00)`;
      await tx`insert into orders.order_items (order_id, created_at, product_id, quantity, unit_price, line_total)
        values (${id}, ${at}, ${productId}, 3, 14.00, 42.00)`;
      await tx`insert into inventory.stock_movements (id, created_at, product_id, delta, reason)
        values (${newId(at)}, ${at}, ${productId}, -3, 'SALE')`;
    });

    const found = await check(false);
    expect(found.code, found.stderr).toBe(1);
    const day = at.toISOString().slice(0, 10);
    for (const expected of [
      new RegExp(
        `orders\\.order_daily_totals day=${day} status=FULFILLED slot=\\d: expected \\d+ orders, total [\\d.]+, stored`,
      ),
      new RegExp(`orders\\.customer_order_totals customer=${customerId} status=FULFILLED`),
      /orders\.order_status_totals status=FULFILLED slot=\d/,
      new RegExp(
        `orders\\.product_daily_units product=${productId} day=${day}: expected \\d+ units, stored \\d+ units`,
      ),
      new RegExp(`orders\\.product_units product=${productId}`),
      new RegExp(`inventory\\.product_movement_counts product=${productId} slot=\\d`),
    ])
      expect(found.stdout).toMatch(expected);
    const json = JSON.parse((await check()).stdout);
    expect(json.ok).toBe(false);
    expect(json.differences).toContainEqual(
      expect.objectContaining({ aggregate: 'orders.product_units', key: `product=${productId}` }),
    );

    const rebuilt = await stockgraph(['--json', 'aggregates', 'rebuild'], env());
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(JSON.parse(rebuilt.stdout).rebuilt.map((r: { service: string }) => r.service)).toEqual([
      'orders',
      'inventory',
    ]);
    const clean = await check();
    expect(clean.code, clean.stdout).toBe(0);
    const after = await call(`{ orders(filter: { customerId: "${customerId}" }) { totalCount } }`);
    expect(after.orders.totalCount).toBe(before + 1);
  });

  it('rebuilds without losing a write that commits meanwhile: writers wait for it, or it waits for them', async () => {
    const customerId = demo.customers[6]!.id;
    const at = ago(2, 9);
    const id = newId(at);
    const writer = postgres(stack.database.url, { max: 1, onnotice: () => {} });
    try {
      let commit!: () => void;
      const held = new Promise<void>((resolve) => (commit = resolve));
      let inserted!: () => void;
      const inFlight = new Promise<void>((resolve) => (inserted = resolve));
      // A placeOrder-like write is in flight when the rebuild starts: the rebuild's SHARE lock waits for it.
      const write = writer.begin(async (tx) => {
        await tx`insert into orders.orders (id, created_at, number, customer_id, status, total)
          values (${id}, ${at}, 'SG-MEANWHILE', ${customerId}, 'CONFIRMED', 12.50)`;
        inserted();
        await held;
      });
      await inFlight;
      const rebuild = stockgraph(['aggregates', 'rebuild'], env());
      // Commit only once the rebuild is seen waiting for the writer's lock: that is the race under test.
      for (;;) {
        const [waiting] = await sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and query ilike '%aggregates_rebuild%'`;
        if (waiting!.n > 0) break;
        await new Promise((r) => setImmediate(r));
      }
      commit();
      await write;
      expect((await rebuild).code).toBe(0);
      const result = await check();
      expect(result.code, result.stdout).toBe(0);
      const data = await call(`{ customer(id: "${customerId}") { orderCount } }`);
      expect(data.customer.orderCount).toBe((await rawCustomerTotals(customerId)).orderCount);
    } finally {
      await writer.end();
    }
  });

  it('describe the live tables only once `partitions archive` detached old months: every count agrees with the pages a client can reach', async () => {
    // A customer with orders both in the months about to be archived and in live ones.
    const cutoff = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 12, 1));
    const [both] = await sql<{ id: string }[]>`
      select customer_id::text as id from orders.orders group by customer_id
      having min(created_at) < ${cutoff} and max(created_at) >= ${cutoff}
      order by count(*) filter (where created_at < ${cutoff}) desc limit 1`;
    const customerId = both!.id;
    const [product] = await sql<{ id: string }[]>`
      select i.product_id::text as id from orders.order_items i
      join orders.orders o on o.id = i.order_id and o.created_at = i.created_at
      where o.status = 'FULFILLED' and o.created_at < ${cutoff} limit 1`;
    const productId = product!.id;
    const allBefore = await rawCount({});

    const archived = await stockgraph(['--json', 'partitions', 'archive', '--older-than', '12'], env());
    expect(archived.code, archived.stderr).toBe(0);
    const [archivedRows] = await sql<{ n: number; mine: number }[]>`
      select count(*)::int as n, (count(*) filter (where customer_id = ${customerId}))::int as mine
      from orders_archive.orders`;
    expect(archivedRows!.n).toBeGreaterThan(0);
    expect(archivedRows!.mine).toBeGreaterThan(0);
    expect(await rawCount({})).toBe(allBefore - archivedRows!.n);

    const checked = await check();
    expect(checked.code, checked.stdout).toBe(0);

    // Every live totalCount equals the orders its own list returns, page after page.
    const range = { createdFrom: ago(540, 5.5).toISOString(), createdTo: ago(250, 17.25).toISOString() };
    const filters: Filter[] = [
      {},
      { status: 'CANCELLED' },
      { customerId },
      { customerId, status: 'FULFILLED' },
      range,
      { ...range, status: 'FULFILLED' },
      { ...range, customerId },
    ];
    for (const filter of filters) {
      const listed = await listedOrders(filter);
      const { orders } = await call('query ($f: OrderFilter) { orders(filter: $f, first: 1) { totalCount } }', {
        f: filter,
      });
      expect(orders.totalCount, JSON.stringify(filter)).toBe(listed);
      expect(listed, JSON.stringify(filter)).toBe(await rawCount(filter));
    }
    const customer = await call(
      'query ($id: ID!) { customer(id: $id) { orderCount lifetimeValue orders(first: 1) { totalCount } } }',
      { id: customerId },
    );
    const live = await rawCustomerTotals(customerId);
    expect(customer.customer).toMatchObject(live);
    expect(customer.customer.orders.totalCount).toBe(await listedCustomerOrders(customerId));
    expect(customer.customer.orderCount).toBe(customer.customer.orders.totalCount);

    // The statistics cover the live months: archived months are empty buckets, units leave with them.
    const from = ago(540, 5.5);
    const to = ago(250, 17.25);
    for (const interval of ['DAY', 'MONTH'] as const) {
      const stats = await call(
        'query ($from: DateTime!, $to: DateTime!, $i: StatsInterval) { orderStats(from: $from, to: $to, interval: $i) { start orderCount revenue } }',
        { from: from.toISOString(), to: to.toISOString(), i: interval },
      );
      expect(stats.orderStats).toEqual(await rawStats(from, to, interval));
    }
    const units = await call(
      `query ($p: ID!, $from: DateTime, $to: DateTime) {
        product(id: $p) { all: unitsSold ranged: unitsSold(from: $from, to: $to) }
      }`,
      { p: productId, from: from.toISOString(), to: to.toISOString() },
    );
    expect(units.product.all).toBe(await rawUnits(productId, null, null));
    expect(units.product.ranged).toBe(await rawUnits(productId, from.toISOString(), to.toISOString()));

    // The archive is read on request and counted from its own rows.
    const fromArchive = await call(
      `query ($c: ID!) {
        all: orders(filter: { archived: true }, first: 1) { totalCount }
        mine: orders(filter: { archived: true, customerId: $c }, first: 1) { totalCount }
      }`,
      { c: customerId },
    );
    expect(fromArchive.all.totalCount).toBe(archivedRows!.n);
    expect(fromArchive.mine.totalCount).toBe(archivedRows!.mine);
  });

  it('a database that archived while the aggregates still counted the archive is made live-only by a rebuild (migration 0006 ends with one)', async () => {
    const [archive] = await sql<{ n: number }[]>`select count(*)::int as n from orders_archive.orders`;
    expect(archive!.n).toBeGreaterThan(0);
    const live = await rawCount({});
    // What an archive run under migration 0005 left behind: the archived months still in the aggregates.
    await sql`select orders.aggregates_apply('orders_archive.orders', 'orders_archive.order_items', 1)`;
    expect((await call('{ orders { totalCount } }')).orders.totalCount).toBe(live + archive!.n);
    const stale = await check();
    expect(stale.code, 'the check compares with the live rows only').toBe(1);
    expect(JSON.parse(stale.stdout).differences).toContainEqual(
      expect.objectContaining({ aggregate: 'orders.order_status_totals' }),
    );

    const rebuilt = await stockgraph(['aggregates', 'rebuild'], env());
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    const clean = await check();
    expect(clean.code, clean.stdout).toBe(0);
    expect((await call('{ orders { totalCount } }')).orders.totalCount).toBe(live);
  });
});

/** How many orders the live list returns for `filter`, paging 100 at a time to the end. */
async function listedOrders(filter: Filter): Promise<number> {
  let listed = 0;
  let after: string | null = null;
  for (;;) {
    const { orders } = await call(
      'query ($f: OrderFilter, $after: String) { orders(filter: $f, first: 100, after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } } }',
      { f: filter, after },
    );
    listed += orders.edges.length;
    if (!orders.pageInfo.hasNextPage) return listed;
    after = orders.pageInfo.endCursor;
  }
}

/** How many orders a customer's list returns, paging to the end. */
async function listedCustomerOrders(customerId: string): Promise<number> {
  let listed = 0;
  let after: string | null = null;
  for (;;) {
    const { customer } = await call(
      'query ($id: ID!, $after: String) { customer(id: $id) { orders(first: 100, after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } } } }',
      { id: customerId, after },
    );
    listed += customer.orders.edges.length;
    if (!customer.orders.pageInfo.hasNextPage) return listed;
    after = customer.orders.pageInfo.endCursor;
  }
}
