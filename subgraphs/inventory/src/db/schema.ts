import { idColumn, idempotencyKeysTable, timestamps } from '@stockgraph/db';
import { sql } from 'drizzle-orm';
import { outboxTable, processedEventsTable } from '@stockgraph/events';
import {
  bigint,
  check,
  date,
  index,
  integer,
  jsonb,
  numeric,
  pgSchema,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const inventorySchema = pgSchema('inventory');

const money = (name: string) => numeric(name, { precision: 12, scale: 2 });

export const products = inventorySchema.table(
  'products',
  {
    id: idColumn(),
    sku: text('sku').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    category: text('category'),
    unitPrice: money('unit_price').notNull(),
    costPrice: money('cost_price'),
    /** Units physically in stock. */
    onHand: integer('on_hand').notNull().default(0),
    /** Units promised to confirmed orders that are not yet fulfilled. */
    reserved: integer('reserved').notNull().default(0),
    /** Derived by Postgres so a reservation can be one conditional update on `available`. */
    available: integer('available')
      .generatedAlwaysAs(sql`on_hand - reserved`)
      .notNull(),
    reorderLevel: integer('reorder_level').notNull().default(10),
    /**
     * The open stocktake counting this product, if any: set for every product in its scope in the
     * transaction that opens it, so a reservation or adjustment that locks the row sees the freeze.
     */
    stocktakeId: uuid('stocktake_id'),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('products_sku_key').on(t.sku),
    index('products_available_sku_idx').on(t.available, t.sku),
    index('products_category_sku_idx').on(t.category, t.sku),
    check('products_on_hand_nonnegative', sql`on_hand >= 0`),
    check('products_reserved_within_stock', sql`reserved >= 0 and reserved <= on_hand`),
    check('products_prices_nonnegative', sql`unit_price >= 0 and (cost_price is null or cost_price >= 0)`),
  ],
);

export const priceHistory = inventorySchema.table(
  'price_history',
  {
    id: idColumn(),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id),
    unitPrice: money('unit_price').notNull(),
    costPrice: money('cost_price'),
    changedAt: timestamp('changed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    changedBy: uuid('changed_by'),
  },
  (t) => [index('price_history_product_changed_idx').on(t.productId, t.changedAt)],
);

export const movementReason = inventorySchema.enum('movement_reason', [
  'RECEIPT',
  'SALE',
  'ADJUSTMENT',
  'RETURN',
  'RESERVATION',
  'RELEASE',
]);

/**
 * The append-only stock ledger, range-partitioned by month on created_at (see the custom migration).
 * The primary key includes created_at because Postgres requires the partition key in it; ids are
 * UUIDv7 from the same clock reading as created_at, so an id alone names its partition.
 */
export const stockMovements = inventorySchema.table(
  'stock_movements',
  {
    id: uuid('id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id),
    delta: integer('delta').notNull(),
    reason: movementReason('reason').notNull(),
    orderId: uuid('order_id'),
    note: text('note'),
    actorId: uuid('actor_id'),
  },
  (t) => [
    primaryKey({ columns: [t.id, t.createdAt] }),
    index('stock_movements_product_created_idx').on(t.productId, t.createdAt, t.id),
    index('stock_movements_order_idx').on(t.orderId),
  ],
);

/**
 * Stock movements per product, kept by a row trigger on the ledger in the writer's transaction
 * (migration 0005), so `movements { totalCount }` reads at most 8 rows. Every reservation of a product
 * adds a movement: the count is spread over 8 slots (the movement id's last byte) so concurrent
 * bookings of one hot product do not queue on one row.
 */
export const productMovementCounts = inventorySchema.table(
  'product_movement_counts',
  {
    productId: uuid('product_id').notNull(),
    slot: smallint('slot').notNull(),
    movements: bigint('movements', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.productId, t.slot] })],
);

/**
 * Each product's ledger summed per UTC day, kept by the ledger's row trigger in the writer's transaction
 * (migration 0008), so stock at any moment is today's columns minus the days after it and the hours
 * after it on its own day, never a replay of the whole ledger. Spread over the same 8 slots as the
 * movement counts, so concurrent bookings of one hot product do not queue on one row.
 */
export const stockDaily = inventorySchema.table(
  'stock_daily',
  {
    productId: uuid('product_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    slot: smallint('slot').notNull(),
    /** Sum of RECEIPT, SALE, ADJUSTMENT and RETURN deltas. */
    onHandDelta: bigint('on_hand_delta', { mode: 'number' }).notNull(),
    /** Sum of RESERVATION and RELEASE deltas. */
    reservedDelta: bigint('reserved_delta', { mode: 'number' }).notNull(),
    movements: bigint('movements', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.productId, t.day, t.slot] }), index('stock_daily_day_idx').on(t.day)],
);

export type ProductRow = typeof products.$inferSelect;
export type NewProductRow = typeof products.$inferInsert;
export type PriceChangeRow = typeof priceHistory.$inferSelect;
export type StockMovementRow = typeof stockMovements.$inferSelect;
export type NewStockMovementRow = typeof stockMovements.$inferInsert;

export const partitionedTables = [{ schema: 'inventory', table: 'stock_movements' }];

export const outbox = outboxTable(inventorySchema);
export const processedEvents = processedEventsTable(inventorySchema);

export const reservationStatus = inventorySchema.enum('reservation_status', [
  'RESERVED',
  'REJECTED',
  'RELEASED',
  'SOLD',
  'CANCELLED',
]);

/**
 * What inventory decided for each order: the saga's state on this side. It makes every order event
 * safe to receive twice or out of order (a cancellation that overtakes its placement leaves a
 * CANCELLED tombstone, so the late placement reserves nothing).
 */
export const reservations = inventorySchema.table('reservations', {
  orderId: uuid('order_id').primaryKey(),
  status: reservationStatus('status').notNull(),
  items: jsonb('items').$type<{ productId: string; quantity: number }[]>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export type ReservationRow = typeof reservations.$inferSelect;

export const idempotencyKeys = idempotencyKeysTable(inventorySchema);

export const stocktakeStatus = inventorySchema.enum('stocktake_status', ['OPEN', 'CLOSED']);

/**
 * A count of the shelves against the ledger, for one category or (category null) the whole catalogue.
 * At most one is open per scope; while it is, its products take no reservations or adjustments.
 */
export const stocktakes = inventorySchema.table(
  'stocktakes',
  {
    id: idColumn(),
    /** Null: the whole catalogue. */
    category: text('category'),
    status: stocktakeStatus('status').notNull().default('OPEN'),
    openedAt: timestamp('opened_at', { withTimezone: true, mode: 'date' }).notNull(),
    openedBy: uuid('opened_by').notNull(),
    closedAt: timestamp('closed_at', { withTimezone: true, mode: 'date' }),
    closedBy: uuid('closed_by'),
  },
  (t) => [index('stocktakes_status_opened_idx').on(t.status, t.openedAt)],
);

/**
 * One product of a stocktake: its on-hand stock when the stocktake opened (taken in that transaction,
 * so it is the ledger at that moment), the count staff recorded, and the adjustment closing booked.
 */
export const stocktakeLines = inventorySchema.table(
  'stocktake_lines',
  {
    stocktakeId: uuid('stocktake_id')
      .notNull()
      .references(() => stocktakes.id),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id),
    sku: text('sku').notNull(),
    onHandAtOpen: integer('on_hand_at_open').notNull(),
    counted: integer('counted'),
    countedAt: timestamp('counted_at', { withTimezone: true, mode: 'date' }),
    countedBy: uuid('counted_by'),
    /** The ADJUSTMENT closing booked; null while open and for products nobody counted. */
    applied: integer('applied'),
  },
  (t) => [
    primaryKey({ columns: [t.stocktakeId, t.productId] }),
    uniqueIndex('stocktake_lines_sku_key').on(t.stocktakeId, t.sku),
    check('stocktake_lines_counted_nonnegative', sql`counted is null or counted >= 0`),
  ],
);

export type StocktakeRow = typeof stocktakes.$inferSelect;
export type StocktakeLineRow = typeof stocktakeLines.$inferSelect;
