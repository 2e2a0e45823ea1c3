import { inKeyOrder, rowsOf, textArray, type Database } from '@stockgraph/db';
import { idTime } from '@stockgraph/ids';
import type { Page } from '@stockgraph/graphql-kit';
import { and, count, desc, eq, getTableColumns, gte, inArray, lt, lte, sql, type SQL } from 'drizzle-orm';
import type * as schema from './schema.js';
import { orderItems, orders, type OrderItemRow, type OrderRow } from './schema.js';

export type OrderStatus = OrderRow['status'];

export interface OrderFilter {
  status?: OrderStatus | null;
  customerId?: string | null;
  createdFrom?: Date | null;
  createdTo?: Date | null;
}

export type StatsInterval = 'DAY' | 'WEEK' | 'MONTH';

export interface StatsBucket {
  start: Date;
  orderCount: number;
  revenue: string;
}

/** Orders whose money counts as revenue: stock was promised or shipped. */
const REVENUE_STATUSES = ['CONFIRMED', 'FULFILLED'] as const;

/**
 * `(id, created_at) in unnest(ids, times)`: carrying each id's creation time lets Postgres prune to the
 * partitions that hold the rows; `id = any(ids)` alone scans every partition (see FINDINGS.md).
 */
function idsWithTimes(column: SQL, ids: readonly string[]): SQL {
  const times = ids.map((id) => idTime(id).toISOString());
  return sql`${column} in (select * from unnest(${textArray(ids)}::uuid[], ${textArray(times)}::timestamptz[]))`;
}

function groupBy<T>(keys: readonly string[], rows: T[], keyOf: (row: T) => string): T[][] {
  const groups = new Map<string, T[]>(keys.map((k) => [k, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((k) => groups.get(k) ?? []);
}

export class OrderRepository {
  constructor(private readonly db: Database<typeof schema>) {}

  async findByIds(ids: readonly string[]): Promise<(OrderRow | null)[]> {
    const rows = await this.db
      .select()
      .from(orders)
      .where(idsWithTimes(sql`(${orders.id}, ${orders.createdAt})`, ids));
    return inKeyOrder(ids, rows, (r) => r.id);
  }

  /** Items of many orders in one statement, pruned to the orders' partitions. */
  async itemsOf(orderIds: readonly string[]): Promise<OrderItemRow[][]> {
    const rows = await this.db
      .select()
      .from(orderItems)
      .where(idsWithTimes(sql`(${orderItems.orderId}, ${orderItems.createdAt})`, orderIds))
      .orderBy(orderItems.orderId, orderItems.productId);
    return groupBy(orderIds, rows, (r) => r.orderId);
  }

  private where(filter: OrderFilter): SQL | undefined {
    return and(
      filter.status ? eq(orders.status, filter.status) : undefined,
      filter.customerId ? eq(orders.customerId, filter.customerId) : undefined,
      filter.createdFrom ? gte(orders.createdAt, filter.createdFrom) : undefined,
      filter.createdTo ? lt(orders.createdAt, filter.createdTo) : undefined,
    );
  }

  /** Newest first; the cursor is the last order's id, whose UUIDv7 time gives the created_at half of the keyset. */
  private keyset(page: Page): SQL | undefined {
    const afterId = page.after?.[0];
    if (!afterId) return undefined;
    return sql`(${orders.createdAt}, ${orders.id}) < (${idTime(afterId).toISOString()}::timestamptz, ${afterId}::uuid)`;
  }

  async list(filter: OrderFilter, page: Page): Promise<OrderRow[]> {
    return this.db
      .select()
      .from(orders)
      .where(and(this.where(filter), this.keyset(page)))
      .orderBy(desc(orders.createdAt), desc(orders.id))
      .limit(page.limit + 1);
  }

  async count(filter: OrderFilter): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(orders).where(this.where(filter));
    return Number(row?.n ?? 0);
  }

  /** One page of orders for each of many customers, in one statement (a window per customer). */
  async pageByCustomers(customerIds: readonly string[], status: OrderStatus | null, page: Page): Promise<OrderRow[][]> {
    const ranked = this.db
      .select({
        ...getTableColumns(orders),
        rank: sql<number>`row_number() over (partition by ${orders.customerId} order by ${orders.createdAt} desc, ${orders.id} desc)`.as(
          'rank',
        ),
      })
      .from(orders)
      .where(
        and(
          inArray(orders.customerId, [...customerIds]),
          status ? eq(orders.status, status) : undefined,
          this.keyset(page),
        ),
      )
      .as('ranked');
    const rows = await this.db
      .select()
      .from(ranked)
      .where(lte(ranked.rank, page.limit + 1))
      .orderBy(desc(ranked.createdAt), desc(ranked.id));
    return groupBy(
      customerIds,
      rows.map(({ rank: _rank, ...order }) => order),
      (r) => r.customerId,
    );
  }

  /** Order counts and lifetime value for many customers in one statement. */
  async totalsByCustomers(customerIds: readonly string[], status: OrderStatus | null = null) {
    const rows = await this.db
      .select({
        customerId: orders.customerId,
        orderCount: sql<number>`count(*)::int`.mapWith(Number),
        lifetimeValue: sql<string>`coalesce(sum(${orders.total}) filter (where ${inArray(orders.status, [...REVENUE_STATUSES])}), 0)::numeric(14, 2)::text`,
      })
      .from(orders)
      .where(and(inArray(orders.customerId, [...customerIds]), status ? eq(orders.status, status) : undefined))
      .groupBy(orders.customerId);
    return inKeyOrder(customerIds, rows, (r) => r.customerId).map(
      (r, i) => r ?? { customerId: customerIds[i]!, orderCount: 0, lifetimeValue: '0.00' },
    );
  }

  /** Units of each product in fulfilled orders created in [from, to): the range prunes partitions. */
  async unitsSold(productIds: readonly string[], from: Date | null, to: Date | null): Promise<number[]> {
    const result = await this.db.execute(sql`
      select i.product_id, coalesce(sum(i.quantity), 0)::int as units
      from orders.order_items i
      join orders.orders o on o.id = i.order_id and o.created_at = i.created_at
      where i.product_id = any(${textArray(productIds)}::uuid[])
        and o.status = 'FULFILLED'
        ${from ? sql`and i.created_at >= ${from.toISOString()}::timestamptz and o.created_at >= ${from.toISOString()}::timestamptz` : sql``}
        ${to ? sql`and i.created_at < ${to.toISOString()}::timestamptz and o.created_at < ${to.toISOString()}::timestamptz` : sql``}
      group by i.product_id`);
    const units = new Map(
      rowsOf<{ product_id: string; units: number }>(result).map((r) => [r.product_id, Number(r.units)]),
    );
    return productIds.map((id) => units.get(id) ?? 0);
  }

  /** Orders and revenue per UTC day, ISO week or month in [from, to), empty buckets included. */
  async stats(from: Date, to: Date, interval: StatsInterval): Promise<StatsBucket[]> {
    const unit = sql.raw(`'${interval.toLowerCase()}'`);
    const step = sql.raw(`'1 ${interval.toLowerCase()}'`);
    const fromText = from.toISOString();
    const toText = to.toISOString();
    const result = await this.db.execute(sql`
      with buckets as (
        select generate_series(
          date_trunc(${unit}, ${fromText}::timestamptz at time zone 'UTC'),
          ${toText}::timestamptz at time zone 'UTC' - interval '1 microsecond',
          ${step}::interval) as start
      ), totals as (
        select date_trunc(${unit}, created_at at time zone 'UTC') as start,
          count(*)::int as order_count,
          coalesce(sum(total) filter (where status in ('CONFIRMED', 'FULFILLED')), 0) as revenue
        from orders.orders
        where created_at >= ${fromText}::timestamptz and created_at < ${toText}::timestamptz
        group by 1
      )
      select (b.start at time zone 'UTC') as start, coalesce(t.order_count, 0)::int as order_count, coalesce(t.revenue, 0)::numeric(14, 2)::text as revenue
      from buckets b left join totals t on t.start = b.start
      order by b.start`);
    return rowsOf<{ start: Date | string; order_count: number; revenue: string }>(result).map((r) => ({
      start: new Date(r.start),
      orderCount: Number(r.order_count),
      revenue: r.revenue,
    }));
  }

  async isEmpty(): Promise<boolean> {
    return (await this.db.select({ id: orders.id }).from(orders).limit(1)).length === 0;
  }
}
