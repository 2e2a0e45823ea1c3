import { inKeyOrder, rowsOf, textArray, type Database } from '@stockgraph/db';
import { idTime } from '@stockgraph/ids';
import type { Page } from '@stockgraph/graphql-kit';
import { and, count, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
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

const DAY_MS = 86_400_000;

/** A half-open time range; null is open on that side. */
interface TimeRange {
  from: Date | null;
  to: Date | null;
}

/**
 * [from, to) as the whole UTC days inside it (read from the daily aggregates) and the partial days at
 * its edges (read from the rows, each at most one day of them). A range inside one day is all partial.
 */
export function splitDays(from: Date | null, to: Date | null): { days: TimeRange | null; partial: TimeRange[] } {
  const firstDay = from ? new Date(Math.ceil(from.getTime() / DAY_MS) * DAY_MS) : null;
  const endDay = to ? new Date(Math.floor(to.getTime() / DAY_MS) * DAY_MS) : null;
  if (firstDay && endDay && firstDay >= endDay) return { days: null, partial: [{ from, to }] };
  const partial: TimeRange[] = [];
  if (from && firstDay && firstDay > from) partial.push({ from, to: firstDay });
  if (to && endDay && endDay < to) partial.push({ from: endDay, to });
  return { days: { from: firstDay, to: endDay }, partial };
}

const dayText = (at: Date) => at.toISOString().slice(0, 10);

function dayRange(days: TimeRange): SQL {
  return sql.join(
    [
      sql`true`,
      ...(days.from ? [sql`day >= ${dayText(days.from)}::date`] : []),
      ...(days.to ? [sql`day < ${dayText(days.to)}::date`] : []),
    ],
    sql` and `,
  );
}

function timeRange(range: TimeRange, column: SQL = sql`created_at`): SQL {
  return sql.join(
    [
      sql`true`,
      ...(range.from ? [sql`${column} >= ${range.from.toISOString()}::timestamptz`] : []),
      ...(range.to ? [sql`${column} < ${range.to.toISOString()}::timestamptz`] : []),
    ],
    sql` and `,
  );
}

/** An order as raw SQL returns it on either driver: money and JSON as text, times as Date or text. */
export interface RawOrder {
  id: string;
  created_at: Date | string;
  number: string;
  customer_id: string;
  status: OrderStatus;
  total: string;
  created_by: string | null;
  updated_at: Date | string;
  rejection: string | null;
}

export const ORDER_COLUMNS = sql.raw(
  'o.id, o.created_at, o.number, o.customer_id, o.status, o.total::text as total, o.created_by, o.updated_at, o.rejection::text as rejection',
);

export function toOrderRow(raw: RawOrder): OrderRow {
  return {
    id: raw.id,
    createdAt: new Date(raw.created_at),
    number: raw.number,
    customerId: raw.customer_id,
    status: raw.status,
    total: raw.total,
    createdBy: raw.created_by,
    updatedAt: new Date(raw.updated_at),
    rejection: raw.rejection === null ? null : (JSON.parse(raw.rejection) as OrderRow['rejection']),
  };
}

/**
 * `(id, created_at) in unnest(ids, times)`: carrying each id's creation time lets Postgres prune to the
 * partitions that hold the rows; `id = any(ids)` alone scans every partition (see FINDINGS.md).
 */
export function idsWithTimes(column: SQL, ids: readonly string[]): SQL {
  const times = ids.map((id) => idTime(id).toISOString());
  return sql`${column} in (select * from unnest(${textArray(ids)}::uuid[], ${textArray(times)}::timestamptz[]))`;
}

export function groupBy<T>(keys: readonly string[], rows: T[], keyOf: (row: T) => string): T[][] {
  const groups = new Map<string, T[]>(keys.map((k) => [k, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((k) => groups.get(k) ?? []);
}

/** The columns a filter and a cursor read: the live table's, or the archive's of the same shape. */
export interface FilteredOrderColumns {
  id: AnyPgColumn;
  status: AnyPgColumn;
  customerId: AnyPgColumn;
  createdAt: AnyPgColumn;
}

export function filterWhere(t: FilteredOrderColumns, filter: OrderFilter): SQL | undefined {
  return and(
    filter.status ? eq(t.status, filter.status) : undefined,
    filter.customerId ? eq(t.customerId, filter.customerId) : undefined,
    filter.createdFrom ? gte(t.createdAt, filter.createdFrom) : undefined,
    filter.createdTo ? lt(t.createdAt, filter.createdTo) : undefined,
  );
}

/** Newest first; the cursor is the last order's id, whose UUIDv7 time gives the created_at half of the keyset. */
export function keysetAfter(t: FilteredOrderColumns, page: Page): SQL | undefined {
  const afterId = page.after?.[0];
  if (!afterId) return undefined;
  return sql`(${t.createdAt}, ${t.id}) < (${idTime(afterId).toISOString()}::timestamptz, ${afterId}::uuid)`;
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

  async list(filter: OrderFilter, page: Page): Promise<OrderRow[]> {
    return this.db
      .select()
      .from(orders)
      .where(and(filterWhere(orders, filter), keysetAfter(orders, page)))
      .orderBy(desc(orders.createdAt), desc(orders.id))
      .limit(page.limit + 1);
  }

  /**
   * Exact, from the aggregates: per-customer totals for a customer, the status totals with no date
   * range, otherwise the daily totals of the range's whole UTC days plus the raw rows of its partial
   * first and last day. A customer with a date range is counted from its rows over the
   * (customer_id, created_at) index: the cost grows with that customer's orders in the range.
   */
  async count(filter: OrderFilter): Promise<number> {
    const status = filter.status ? sql`and status = ${filter.status}` : sql``;
    const ranged = Boolean(filter.createdFrom || filter.createdTo);
    if (filter.customerId && ranged) {
      const [row] = await this.db.select({ n: count() }).from(orders).where(filterWhere(orders, filter));
      return Number(row?.n ?? 0);
    }
    if (filter.customerId) {
      return this.sumCount(sql`
        select coalesce(sum(order_count), 0)::bigint as n from orders.customer_order_totals_current
        where customer_id = ${filter.customerId} ${status}`);
    }
    if (!ranged) {
      return this.sumCount(
        sql`select coalesce(sum(order_count), 0)::bigint as n from orders.order_status_totals_current where true ${status}`,
      );
    }
    const { days, partial } = splitDays(filter.createdFrom ?? null, filter.createdTo ?? null);
    const parts = [
      ...(days
        ? [
            sql`select coalesce(sum(order_count), 0) as n from orders.order_daily_totals_current where ${dayRange(days)} ${status}`,
          ]
        : []),
      ...partial.map((edge) => sql`select count(*) as n from orders.orders where ${timeRange(edge)} ${status}`),
    ];
    return this.sumCount(
      sql`select coalesce(sum(n), 0)::bigint as n from (${sql.join(parts, sql` union all `)}) parts`,
    );
  }

  private async sumCount(query: SQL): Promise<number> {
    const [row] = rowsOf<{ n: string | number }>(await this.db.execute(query));
    return Number(row?.n ?? 0);
  }

  /**
   * One page of orders for each of many customers, in one statement: per customer a LATERAL subquery
   * walks the (customer_id[, status], created_at) index newest first and stops after `limit + 1` rows,
   * however many orders the customer has.
   */
  async pageByCustomers(customerIds: readonly string[], status: OrderStatus | null, page: Page): Promise<OrderRow[][]> {
    const afterId = page.after?.[0];
    const keyset = afterId
      ? sql`and (o.created_at, o.id) < (${idTime(afterId).toISOString()}::timestamptz, ${afterId}::uuid)`
      : sql``;
    const result = await this.db.execute(sql`
      select ${ORDER_COLUMNS} from unnest(${textArray(customerIds)}::uuid[]) as c(id)
      cross join lateral (
        select * from orders.orders o
        where o.customer_id = c.id ${status ? sql`and o.status = ${status}` : sql``} ${keyset}
        order by o.created_at desc, o.id desc
        limit ${page.limit + 1}
      ) o`);
    return groupBy(customerIds, rowsOf<RawOrder>(result).map(toOrderRow), (r) => r.customerId);
  }

  /** Order counts and lifetime value for many customers, from the per-customer totals (8 slots × 5 statuses at most each, and deltas not folded yet). */
  async totalsByCustomers(customerIds: readonly string[], status: OrderStatus | null = null) {
    const result = await this.db.execute(sql`
      select customer_id, coalesce(sum(order_count), 0)::int as order_count,
        coalesce(sum(total) filter (where status in ('CONFIRMED', 'FULFILLED')), 0)::numeric(14, 2)::text as lifetime_value
      from orders.customer_order_totals_current
      where customer_id = any(${textArray(customerIds)}::uuid[]) ${status ? sql`and status = ${status}` : sql``}
      group by customer_id`);
    const rows = rowsOf<{ customer_id: string; order_count: number; lifetime_value: string }>(result).map((r) => ({
      customerId: r.customer_id,
      orderCount: Number(r.order_count),
      lifetimeValue: r.lifetime_value,
    }));
    return inKeyOrder(customerIds, rows, (r) => r.customerId).map(
      (r, i) => r ?? { customerId: customerIds[i]!, orderCount: 0, lifetimeValue: '0.00' },
    );
  }

  /**
   * Units of each product in fulfilled orders created in [from, to): the all-time totals when open on
   * both sides, otherwise the daily units of the range's whole UTC days plus the raw items of its
   * partial first and last day.
   */
  async unitsSold(productIds: readonly string[], from: Date | null, to: Date | null): Promise<number[]> {
    const ids = sql`${textArray(productIds)}::uuid[]`;
    let query: SQL;
    if (!from && !to) {
      query = sql`select product_id, sum(units) as units from orders.product_units_current where product_id = any(${ids}) group by product_id`;
    } else {
      const { days, partial } = splitDays(from, to);
      const parts = [
        ...(days
          ? [
              sql`select product_id, units from orders.product_daily_units_current where product_id = any(${ids}) and ${dayRange(days)}`,
            ]
          : []),
        ...partial.map(
          (edge) => sql`
            select i.product_id, i.quantity as units
            from orders.order_items i
            join orders.orders o on o.id = i.order_id and o.created_at = i.created_at
            where i.product_id = any(${ids}) and o.status = 'FULFILLED'
              and ${timeRange(edge, sql`i.created_at`)} and ${timeRange(edge, sql`o.created_at`)}`,
        ),
      ];
      query = sql`select product_id, sum(units) as units from (${sql.join(parts, sql` union all `)}) parts group by product_id`;
    }
    const units = new Map(
      rowsOf<{ product_id: string; units: string | number }>(await this.db.execute(query)).map((r) => [
        r.product_id,
        Number(r.units),
      ]),
    );
    return productIds.map((id) => units.get(id) ?? 0);
  }

  /**
   * Orders and revenue per UTC day, ISO week or month in [from, to), empty buckets included: whole
   * days from the daily totals, the partial first and last day from their rows.
   */
  async stats(from: Date, to: Date, interval: StatsInterval): Promise<StatsBucket[]> {
    const unit = sql.raw(`'${interval.toLowerCase()}'`);
    const step = sql.raw(`'1 ${interval.toLowerCase()}'`);
    const fromText = from.toISOString();
    const toText = to.toISOString();
    const { days, partial } = splitDays(from, to);
    const parts = [
      ...(days
        ? [
            sql`select day::timestamp as at, status, order_count as n, total from orders.order_daily_totals_current where ${dayRange(days)}`,
          ]
        : []),
      ...partial.map(
        (edge) =>
          sql`select created_at at time zone 'UTC' as at, status, 1 as n, total from orders.orders where ${timeRange(edge)}`,
      ),
    ];
    const result = await this.db.execute(sql`
      with buckets as (
        select generate_series(
          date_trunc(${unit}, ${fromText}::timestamptz at time zone 'UTC'),
          ${toText}::timestamptz at time zone 'UTC' - interval '1 microsecond',
          ${step}::interval) as start
      ), totals as (
        select date_trunc(${unit}, at) as start,
          sum(n)::int as order_count,
          coalesce(sum(total) filter (where status in ('CONFIRMED', 'FULFILLED')), 0) as revenue
        from (${sql.join(parts, sql` union all `)}) parts
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
