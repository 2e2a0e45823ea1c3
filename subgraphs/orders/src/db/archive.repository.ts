import { inKeyOrder, rowsOf, textArray, type Database } from '@stockgraph/db';
import { idTime } from '@stockgraph/ids';
import type { Page } from '@stockgraph/graphql-kit';
import { and, count, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import { integer, jsonb, numeric, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { OrderFilter } from './order.repository.js';
import type * as schema from './schema.js';
import { orderStatus, type OrderItemRow, type OrderRejection, type OrderRow } from './schema.js';

/*
 * Months detached by `stockgraph partitions archive` live in `orders_archive`, under partitioned
 * parents shaped like the live tables (created by that command, so they may not exist yet). Declared
 * here, not in schema.ts: drizzle-kit must never generate migrations for them.
 */
const archiveSchema = pgSchema('orders_archive');
const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull();

const archivedOrders = archiveSchema.table('orders', {
  id: uuid('id').notNull(),
  createdAt: createdAt(),
  number: text('number').notNull(),
  customerId: uuid('customer_id').notNull(),
  status: orderStatus('status').notNull(),
  total: numeric('total', { precision: 14, scale: 2 }).notNull(),
  createdBy: uuid('created_by'),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  rejection: jsonb('rejection').$type<OrderRejection>(),
});

const archivedItems = archiveSchema.table('order_items', {
  orderId: uuid('order_id').notNull(),
  createdAt: createdAt(),
  productId: uuid('product_id').notNull(),
  quantity: integer('quantity').notNull(),
  unitPrice: numeric('unit_price', { precision: 12, scale: 2 }).notNull(),
  lineTotal: numeric('line_total', { precision: 14, scale: 2 }).notNull(),
});

/** Pruned to the ids' months, as the live lookups (see order.repository.ts). */
function idsWithTimes(column: SQL, ids: readonly string[]): SQL {
  const times = ids.map((id) => idTime(id).toISOString());
  return sql`${column} in (select * from unnest(${textArray(ids)}::uuid[], ${textArray(times)}::timestamptz[]))`;
}

/** Reads of archived orders: only on request (`archived: true`) or for ids the live tables lack. */
export class ArchiveRepository {
  private present: Promise<boolean> | undefined;

  constructor(private readonly db: Database<typeof schema>) {}

  /** Whether anything was ever archived; asked once per request. */
  private exists(): Promise<boolean> {
    this.present ??= this.db
      .execute(sql`select to_regclass('orders_archive.order_items') is not null as present`)
      .then((r) => rowsOf<{ present: boolean }>(r)[0]?.present === true);
    return this.present;
  }

  async findByIds(ids: readonly string[]): Promise<(OrderRow | null)[]> {
    if (ids.length === 0 || !(await this.exists())) return ids.map(() => null);
    const rows = await this.db
      .select()
      .from(archivedOrders)
      .where(idsWithTimes(sql`(${archivedOrders.id}, ${archivedOrders.createdAt})`, ids));
    return inKeyOrder(ids, rows, (r) => r.id);
  }

  async itemsOf(orderIds: readonly string[]): Promise<OrderItemRow[][]> {
    if (orderIds.length === 0 || !(await this.exists())) return orderIds.map(() => []);
    const rows = await this.db
      .select()
      .from(archivedItems)
      .where(idsWithTimes(sql`(${archivedItems.orderId}, ${archivedItems.createdAt})`, orderIds))
      .orderBy(archivedItems.orderId, archivedItems.productId);
    const groups = new Map<string, OrderItemRow[]>(orderIds.map((id) => [id, []]));
    for (const row of rows) groups.get(row.orderId)?.push(row);
    return orderIds.map((id) => groups.get(id) ?? []);
  }

  private where(filter: OrderFilter, page?: Page): SQL | undefined {
    const afterId = page?.after?.[0];
    return and(
      filter.status ? eq(archivedOrders.status, filter.status) : undefined,
      filter.customerId ? eq(archivedOrders.customerId, filter.customerId) : undefined,
      filter.createdFrom ? gte(archivedOrders.createdAt, filter.createdFrom) : undefined,
      filter.createdTo ? lt(archivedOrders.createdAt, filter.createdTo) : undefined,
      afterId
        ? sql`(${archivedOrders.createdAt}, ${archivedOrders.id}) < (${idTime(afterId).toISOString()}::timestamptz, ${afterId}::uuid)`
        : undefined,
    );
  }

  /** Newest first with the same keyset cursor as live orders; a created range prunes to its months. */
  async list(filter: OrderFilter, page: Page): Promise<OrderRow[]> {
    if (!(await this.exists())) return [];
    return this.db
      .select()
      .from(archivedOrders)
      .where(this.where(filter, page))
      .orderBy(desc(archivedOrders.createdAt), desc(archivedOrders.id))
      .limit(page.limit + 1);
  }

  /** Counts rows: the archive holds no aggregates, and asking it is rare and explicit. */
  async count(filter: OrderFilter): Promise<number> {
    if (!(await this.exists())) return 0;
    const [row] = await this.db.select({ n: count() }).from(archivedOrders).where(this.where(filter));
    return Number(row?.n ?? 0);
  }
}
