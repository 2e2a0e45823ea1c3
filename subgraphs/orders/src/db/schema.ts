import { sql } from 'drizzle-orm';
import { idempotencyKeysTable } from '@stockgraph/db';
import { outboxTable, processedEventsTable } from '@stockgraph/events';
import {
  bigint,
  check,
  date,
  foreignKey,
  index,
  integer,
  jsonb,
  numeric,
  pgSchema,
  primaryKey,
  smallint,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

export const ordersSchema = pgSchema('orders');

export const orderStatus = ordersSchema.enum('order_status', [
  'PENDING',
  'CONFIRMED',
  'REJECTED',
  'CANCELLED',
  'FULFILLED',
]);

/** Human-facing order numbers; a sequence, because a unique index on a partitioned table must include created_at. */
export const orderNumberSeq = ordersSchema.sequence('order_number_seq', { startWith: 1 });

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull();

/** An order's columns: the live table's, and the archive's (orders_archive) of the same shape. */
export const orderColumns = () => ({
  id: uuid('id').notNull(),
  createdAt: createdAt(),
  number: text('number').notNull(),
  customerId: uuid('customer_id').notNull(),
  status: orderStatus('status').notNull().default('PENDING'),
  total: numeric('total', { precision: 14, scale: 2 }).notNull(),
  createdBy: uuid('created_by'),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  /** Why inventory rejected the order: the products it could not reserve. */
  rejection: jsonb('rejection').$type<OrderRejection>(),
});

/** An order line's columns, live and archived. */
export const orderItemColumns = () => ({
  orderId: uuid('order_id').notNull(),
  createdAt: createdAt(),
  productId: uuid('product_id').notNull(),
  quantity: integer('quantity').notNull(),
  unitPrice: numeric('unit_price', { precision: 12, scale: 2 }).notNull(),
  lineTotal: numeric('line_total', { precision: 14, scale: 2 }).notNull(),
});

/**
 * Range-partitioned by month on created_at (see the custom migrations). Ids are UUIDv7 from the same
 * clock reading as created_at, so a lookup by id adds `created_at = idTime(id)` and touches one partition.
 */
export const orders = ordersSchema.table('orders', orderColumns(), (t) => [
  primaryKey({ columns: [t.id, t.createdAt] }),
  index('orders_customer_created_idx').on(t.customerId, t.createdAt),
  index('orders_created_id_idx').on(t.createdAt, t.id),
  index('orders_status_created_idx').on(t.status, t.createdAt),
  // A customer's page in one status (Customer.orders(status:)) reads only that status's entries.
  index('orders_customer_status_created_idx').on(t.customerId, t.status, t.createdAt),
  check('orders_total_nonnegative', sql`total >= 0`),
]);

/** Partitioned like orders; an item's created_at is its order's, which is also the foreign key's partition key. */
export const orderItems = ordersSchema.table('order_items', orderItemColumns(), (t) => [
  primaryKey({ columns: [t.orderId, t.productId, t.createdAt] }),
  foreignKey({ columns: [t.orderId, t.createdAt], foreignColumns: [orders.id, orders.createdAt] }).onDelete('cascade'),
  index('order_items_product_created_idx').on(t.productId, t.createdAt),
  check('order_items_quantity_positive', sql`quantity > 0`),
]);

export interface OrderRejection {
  code: 'INSUFFICIENT_STOCK' | 'STOCKTAKE_IN_PROGRESS';
  products: { productId: string; requested: number; available: number; stocktakeId?: string | null }[];
}

export const outbox = outboxTable(ordersSchema);
export const processedEvents = processedEventsTable(ordersSchema);

/**
 * A client's retry of placeOrder finds the order its first attempt created (`result_id`), through the
 * shared `once()`. Keyed per user, so one user's key never collides with another's.
 */
export const idempotencyKeys = idempotencyKeysTable(ordersSchema);

/** Current selling prices, kept from inventory's events: placing an order needs no call to inventory. */
export const productPrices = ordersSchema.table('product_prices', {
  productId: uuid('product_id').primaryKey(),
  unitPrice: numeric('unit_price', { precision: 12, scale: 2 }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** Customers that exist, kept from the customers service's events, to refuse orders for unknown ones. */
export const knownCustomers = ordersSchema.table('known_customers', {
  customerId: uuid('customer_id').primaryKey(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/*
 * Aggregates of orders and their items, recomputed by `orders.aggregates_rebuild()`. Every write's
 * triggers append its change to the delta tables below in the writer's own transaction (migration
 * 0007): concurrent orders never update one row, so none waits for another's commit.
 * `orders.aggregates_fold()`, run every second by the orders service, moves the deltas into the total
 * tables; readers add the deltas not folded yet (the `*_current` views), so every figure is exact at
 * every moment. Totals are kept per slot (the order id's last byte, 8 slots), which readers sum. They
 * describe the live tables only (migration 0006): `stockgraph partitions archive` subtracts each
 * archived month with `orders.aggregates_forget()` in the transaction that detaches it.
 */
const orderCount = () => bigint('order_count', { mode: 'number' }).notNull();
const orderTotal = () => numeric('total', { precision: 18, scale: 2 }).notNull();

/** Orders and the sum of their totals per UTC day of creation, status and slot. */
export const orderDailyTotals = ordersSchema.table(
  'order_daily_totals',
  {
    day: date('day', { mode: 'string' }).notNull(),
    status: orderStatus('status').notNull(),
    slot: smallint('slot').notNull(),
    orderCount: orderCount(),
    total: orderTotal(),
  },
  (t) => [primaryKey({ columns: [t.day, t.status, t.slot] })],
);

/** Orders and their totals per status and slot over all time: totalCount without a date range. */
export const orderStatusTotals = ordersSchema.table(
  'order_status_totals',
  {
    status: orderStatus('status').notNull(),
    slot: smallint('slot').notNull(),
    orderCount: orderCount(),
    total: orderTotal(),
  },
  (t) => [primaryKey({ columns: [t.status, t.slot] })],
);

/** Orders and their totals per customer, status and slot: orderCount, lifetimeValue, per-customer totalCount. */
export const customerOrderTotals = ordersSchema.table(
  'customer_order_totals',
  {
    customerId: uuid('customer_id').notNull(),
    status: orderStatus('status').notNull(),
    slot: smallint('slot').notNull(),
    orderCount: orderCount(),
    total: orderTotal(),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.status, t.slot] })],
);

/**
 * Units of a product in FULFILLED orders per UTC day the order was created. Not slotted: only
 * fulfilment and cancellation of fulfilled orders move it, one manager action per order.
 */
export const productDailyUnits = ordersSchema.table(
  'product_daily_units',
  {
    productId: uuid('product_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    units: bigint('units', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.productId, t.day] })],
);

/** Units of a product in FULFILLED orders over all time: unitsSold without a range. */
export const productUnits = ordersSchema.table('product_units', {
  productId: uuid('product_id').primaryKey(),
  units: bigint('units', { mode: 'number' }).notNull(),
});

/** Changes to the order totals not folded into them yet: appended by triggers, never updated. */
export const orderTotalDeltas = ordersSchema.table('order_total_deltas', {
  day: date('day', { mode: 'string' }).notNull(),
  status: orderStatus('status').notNull(),
  slot: smallint('slot').notNull(),
  customerId: uuid('customer_id').notNull(),
  orderCount: integer('order_count').notNull(),
  total: numeric('total', { precision: 18, scale: 2 }).notNull(),
});

/** Changes to the units sold not folded into them yet. */
export const productUnitDeltas = ordersSchema.table('product_unit_deltas', {
  productId: uuid('product_id').notNull(),
  day: date('day', { mode: 'string' }).notNull(),
  units: bigint('units', { mode: 'number' }).notNull(),
});

export type OrderRow = typeof orders.$inferSelect;
export type NewOrderRow = typeof orders.$inferInsert;
export type OrderItemRow = typeof orderItems.$inferSelect;
export type NewOrderItemRow = typeof orderItems.$inferInsert;

export const partitionedTables = [
  { schema: 'orders', table: 'orders' },
  { schema: 'orders', table: 'order_items' },
];
