import { rowsOf, type Database } from '@stockgraph/db';
import { idTime } from '@stockgraph/ids';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type * as schema from './schema.js';
import {
  knownCustomers,
  orderItems,
  orders,
  productPrices,
  type NewOrderItemRow,
  type NewOrderRow,
  type OrderRejection,
  type OrderRow,
} from './schema.js';

/** The NOTIFY channel on which committed order outcomes are announced (payload: the order id). */
export const ORDER_OUTCOME_CHANNEL = 'orders_outcome';

type Status = OrderRow['status'];

/** The write side of orders: one statement per method, always inside the caller's transaction. */
export class OrderWriter {
  constructor(private readonly db: Database<typeof schema>) {}

  async customerKnown(customerId: string): Promise<boolean> {
    return (
      (
        await this.db
          .select({ id: knownCustomers.customerId })
          .from(knownCustomers)
          .where(eq(knownCustomers.customerId, customerId))
      ).length === 1
    );
  }

  async prices(productIds: string[]): Promise<Map<string, string>> {
    const rows = await this.db.select().from(productPrices).where(inArray(productPrices.productId, productIds));
    return new Map(rows.map((r) => [r.productId, r.unitPrice]));
  }

  async nextNumber(): Promise<string> {
    const [row] = rowsOf<{ n: string | number }>(
      await this.db.execute(sql`select nextval('orders.order_number_seq') as n`),
    );
    return `SG-${String(row!.n).padStart(7, '0')}`;
  }

  async insert(order: NewOrderRow, items: NewOrderItemRow[]): Promise<OrderRow> {
    const [created] = await this.db.insert(orders).values(order).returning();
    await this.db.insert(orderItems).values(items);
    return created!;
  }

  /** Locks one order, found by id and the creation time its UUIDv7 carries (one partition). */
  async lock(id: string): Promise<OrderRow | null> {
    const [row] = await this.db
      .select()
      .from(orders)
      .where(and(eq(orders.id, id), eq(orders.createdAt, idTime(id))))
      .for('update');
    return row ?? null;
  }

  async itemsOf(order: OrderRow) {
    return this.db
      .select({ productId: orderItems.productId, quantity: orderItems.quantity })
      .from(orderItems)
      .where(and(eq(orderItems.orderId, order.id), eq(orderItems.createdAt, order.createdAt)));
  }

  /** Moves an order on only from the given statuses; null when it was elsewhere (a late or repeated event). */
  async transition(id: string, from: Status[], to: Status, rejection?: OrderRejection): Promise<OrderRow | null> {
    const [row] = await this.db
      .update(orders)
      .set({ status: to, updatedAt: new Date(), ...(rejection ? { rejection } : {}) })
      .where(and(eq(orders.id, id), eq(orders.createdAt, idTime(id)), inArray(orders.status, from)))
      .returning();
    return row ?? null;
  }

  /**
   * Tells every orders replica, once this transaction commits, that the order has its outcome: the
   * placeOrder call waiting for it may be on any of them.
   */
  async announceOutcome(id: string): Promise<void> {
    await this.db.execute(sql`select pg_notify(${ORDER_OUTCOME_CHANNEL}, ${id})`);
  }

  /**
   * PENDING orders not touched for `olderThanMs`: their OrderPlaced or its answer may have been lost
   * (Redis lost data, a consumer was stuck). Touches them so the next sweep waits again.
   */
  async claimStalePending(
    olderThanMs: number,
    limit: number,
  ): Promise<{ id: string; items: { productId: string; quantity: number }[] }[]> {
    const result = await this.db.execute(sql`
      with stale as (
        select id, created_at from orders.orders
        where status = 'PENDING' and updated_at < now() - ${`${olderThanMs} milliseconds`}::interval
          -- An OrderPlaced still waiting in the outbox (Redis down) needs no second copy.
          and not exists (select 1 from orders.outbox x where x.published_at is null and x.type = 'OrderPlaced' and x.payload->>'orderId' = orders.orders.id::text)
        order by created_at limit ${limit} for update skip locked
      )
      update orders.orders o set updated_at = now() from stale
      where o.id = stale.id and o.created_at = stale.created_at
      returning o.id, (select json_agg(json_build_object('productId', i.product_id, 'quantity', i.quantity))
        from orders.order_items i where i.order_id = o.id and i.created_at = o.created_at) as items`);
    return rowsOf<{ id: string; items: { productId: string; quantity: number }[] | string }>(result).map((r) => ({
      id: r.id,
      items: typeof r.items === 'string' ? JSON.parse(r.items) : r.items,
    }));
  }

  /**
   * Keeps the newest price only: price events can arrive out of order (a retried delivery, several
   * relays), and an older price must never overwrite a newer one.
   */
  async upsertPrice(productId: string, unitPrice: string, priceSince: Date): Promise<void> {
    await this.db
      .insert(productPrices)
      .values({ productId, unitPrice, updatedAt: priceSince })
      .onConflictDoUpdate({
        target: productPrices.productId,
        set: { unitPrice, updatedAt: priceSince },
        setWhere: sql`${productPrices.updatedAt} < ${priceSince.toISOString()}::timestamptz`,
      });
  }

  async rememberCustomer(customerId: string): Promise<void> {
    await this.db.insert(knownCustomers).values({ customerId }).onConflictDoNothing();
  }
}
