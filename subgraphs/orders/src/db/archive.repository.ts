import { inKeyOrder, rowsOf, type Database } from '@stockgraph/db';
import type { Page } from '@stockgraph/graphql-kit';
import { and, count, desc, sql } from 'drizzle-orm';
import { pgSchema } from 'drizzle-orm/pg-core';
import { filterWhere, groupBy, idsWithTimes, keysetAfter, type OrderFilter } from './order.repository.js';
import type * as schema from './schema.js';
import { orderColumns, orderItemColumns, type OrderItemRow, type OrderRow } from './schema.js';

/*
 * Months detached by `stockgraph partitions archive` live in `orders_archive`, under partitioned
 * parents shaped like the live tables (created by that command, so they may not exist yet). Declared
 * here, not in schema.ts: drizzle-kit must never generate migrations for them.
 */
const archiveSchema = pgSchema('orders_archive');
const archivedOrders = archiveSchema.table('orders', orderColumns());
const archivedItems = archiveSchema.table('order_items', orderItemColumns());

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
    return groupBy(orderIds, rows, (r) => r.orderId);
  }

  /** Newest first with the same keyset cursor as live orders; a created range prunes to its months. */
  async list(filter: OrderFilter, page: Page): Promise<OrderRow[]> {
    if (!(await this.exists())) return [];
    return this.db
      .select()
      .from(archivedOrders)
      .where(and(filterWhere(archivedOrders, filter), keysetAfter(archivedOrders, page)))
      .orderBy(desc(archivedOrders.createdAt), desc(archivedOrders.id))
      .limit(page.limit + 1);
  }

  /** Counts rows: the archive holds no aggregates, and asking it is rare and explicit. */
  async count(filter: OrderFilter): Promise<number> {
    if (!(await this.exists())) return 0;
    const [row] = await this.db.select({ n: count() }).from(archivedOrders).where(filterWhere(archivedOrders, filter));
    return Number(row?.n ?? 0);
  }
}
