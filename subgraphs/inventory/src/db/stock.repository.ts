import { compiled, rowsOf, textArray, type Database } from '@stockgraph/db';
import { newId } from '@stockgraph/ids';
import { and, eq, gte, inArray, isNull, sql } from 'drizzle-orm';
import type * as schema from './schema.js';
import {
  products,
  reservations,
  stockMovements,
  type NewStockMovementRow,
  type ProductRow,
  type ReservationRow,
} from './schema.js';

export interface OrderLine {
  productId: string;
  quantity: number;
}

export type LedgerRow = Omit<NewStockMovementRow, 'id' | 'createdAt'> & { id: string; createdAt: Date };

export interface LedgerMismatch {
  productId: string;
  sku: string;
  onHand: number;
  reserved: number;
  ledgerOnHand: number;
  ledgerReserved: number;
}

/** Each product's stock as its ledger says it is: the sums the columns must equal. */
const LEDGER_TOTALS = sql`with ledger as (
  select product_id,
    coalesce(sum(delta) filter (where reason in ('RECEIPT', 'SALE', 'ADJUSTMENT', 'RETURN')), 0)::int as on_hand,
    coalesce(sum(delta) filter (where reason in ('RESERVATION', 'RELEASE')), 0)::int as reserved
  from inventory.stock_movements group by product_id
)`;

/** What one reservation statement decided, or the decision an earlier delivery of the order made. */
export type ReservationOutcome =
  | { outcome: 'decided'; status: 'RESERVED' | 'REJECTED' }
  | { outcome: 'earlier'; status: ReservationRow['status'] }
  /** Another delivery of the order decided while this one waited for it: read its decision afresh. */
  | { outcome: 'raced' };

/** An outbox row the reservation statement writes when its decision calls for it. */
export interface ReservationEvent {
  id: string;
  stream: string;
  type: 'StockChanged' | 'StockReserved' | 'StockRejected';
  payload: unknown;
  /** StockChanged: the product whose levels after the reservation complete the payload. */
  productId?: string;
}

/** StockRepository.reserveOrder's statement (rendered once: see `compiled`). */
const RESERVE_ORDER = compiled(
  ['lockKey', 'products', 'quantities', 'movementIds', 'lineCount', 'orderId', 'items', 'at', 'events'],
  (v) => sql`
    with wanted as (
      select w.product_id, w.quantity, w.movement_id
      from (select pg_advisory_xact_lock(hashtextextended(${v.lockKey}, 0))) as order_lock,
        unnest(${v.products}::uuid[], ${v.quantities}::int[],
          ${v.movementIds}::uuid[]) as w(product_id, quantity, movement_id)
    ), locked as (
      select p.id, p.available, p.stocktake_id from inventory.products p
      where p.id in (select product_id from wanted) order by p.id for update
    ), decision as (
      select count(l.id) = ${v.lineCount}::int and coalesce(bool_and(l.available >= w.quantity and l.stocktake_id is null), false) as fits
      from wanted w left join locked l on l.id = w.product_id
    ), claim as (
      insert into inventory.reservations (order_id, status, items)
      select ${v.orderId}::uuid, (case when fits then 'RESERVED' else 'REJECTED' end)::inventory.reservation_status,
        ${v.items}::jsonb
      from decision
      on conflict (order_id) do nothing
      returning status
    ), reserved as (
      update inventory.products p set reserved = p.reserved + w.quantity, updated_at = ${v.at}::timestamptz
      from wanted w
      where p.id = w.product_id and exists (select 1 from claim where status = 'RESERVED')
      returning p.id, p.available, p.reorder_level, w.quantity, w.movement_id
    ), ledger as (
      insert into inventory.stock_movements (id, created_at, product_id, delta, reason, order_id)
      select movement_id, ${v.at}::timestamptz, id, quantity, 'RESERVATION', ${v.orderId}::uuid from reserved
    ), short as (
      select coalesce(jsonb_agg(jsonb_build_object('productId', w.product_id, 'requested', w.quantity,
          'available', greatest(0, coalesce(l.available, 0)), 'stocktakeId', l.stocktake_id)
          order by w.product_id), '[]') as products,
        case when bool_or(l.stocktake_id is not null) then 'STOCKTAKE_IN_PROGRESS' else 'INSUFFICIENT_STOCK' end as code
      from wanted w left join locked l on l.id = w.product_id
      where coalesce(l.available, 0) < w.quantity or l.stocktake_id is not null
    ), queued as (
      insert into inventory.outbox (id, stream, type, payload)
      select e.id, e.stream, e.type, case e.type
          when 'StockChanged' then e.payload || jsonb_build_object('available', r.available, 'reorderLevel', r.reorder_level)
          when 'StockRejected' then e.payload || (select jsonb_build_object('products', products, 'code', code) from short)
          else e.payload end
      from jsonb_to_recordset(${v.events}::jsonb)
          as e(id uuid, stream text, type text, payload jsonb, "productId" uuid)
        cross join claim c
        left join reserved r on r.id = e."productId"
      where (c.status = 'RESERVED' and e.type in ('StockChanged', 'StockReserved'))
        or (c.status = 'REJECTED' and e.type = 'StockRejected')
    )
    select 'decided' as outcome, status from claim
    union all
    select 'earlier', status from inventory.reservations where order_id = ${v.orderId}::uuid`,
);

/** Every write to stock levels: the columns and their ledger rows always change in the same transaction. */
export class StockRepository {
  constructor(private readonly db: Database<typeof schema>) {}

  /** Appends ledger rows; returns them with the ids they were given. */
  async ledger(rows: Omit<NewStockMovementRow, 'id' | 'createdAt'>[]): Promise<LedgerRow[]> {
    if (rows.length === 0) return [];
    const at = new Date();
    const withIds = rows.map((r) => ({ ...r, id: newId(at), createdAt: at }));
    await this.db.insert(stockMovements).values(withIds);
    return withIds;
  }

  /** Each product's available units and reorder level, as this transaction sees them. */
  async levels(productIds: string[]): Promise<Map<string, { available: number; reorderLevel: number }>> {
    if (productIds.length === 0) return new Map();
    const rows = await this.db
      .select({ id: products.id, available: products.available, reorderLevel: products.reorderLevel })
      .from(products)
      .where(inArray(products.id, productIds));
    return new Map(rows.map((r) => [r.id, { available: r.available, reorderLevel: r.reorderLevel }]));
  }

  /**
   * Changes on-hand stock; null when it would fall below zero or below what is reserved, or while a
   * stocktake counts the product.
   */
  async changeOnHand(productId: string, delta: number): Promise<ProductRow | null> {
    const [row] = await this.db
      .update(products)
      .set({ onHand: sql`${products.onHand} + ${delta}`, updatedAt: new Date() })
      .where(
        and(
          eq(products.id, productId),
          isNull(products.stocktakeId),
          sql`${products.onHand} + ${delta} >= ${products.reserved}`,
        ),
      )
      .returning();
    return row ?? null;
  }

  /** The conditional reservation: succeeds only while `available >= quantity`, so stock never oversells. */
  async reserve(line: OrderLine): Promise<boolean> {
    const rows = await this.db
      .update(products)
      .set({ reserved: sql`${products.reserved} + ${line.quantity}`, updatedAt: new Date() })
      .where(and(eq(products.id, line.productId), gte(products.available, line.quantity)))
      .returning({ id: products.id });
    return rows.length === 1;
  }

  /**
   * Decides an order in one statement: under the order's advisory lock (as `lockReservation`) and the
   * products' row locks (taken in id order, so concurrent reservations cannot deadlock), either every
   * line fits and each is reserved with its ledger row (`movementIds`, one per line), or none is; the
   * reservation row records the decision, and the events that announce it are queued: StockChanged per
   * line with the levels after it and StockReserved, or StockRejected naming what fell short (a product
   * an open stocktake holds counts as short, and makes the rejection's code STOCKTAKE_IN_PROGRESS). The
   * reservation row is inserted, not updated: a decision an earlier delivery committed makes this one
   * write nothing and report that decision instead.
   */
  async reserveOrder(
    orderId: string,
    lines: OrderLine[],
    movementIds: string[],
    events: ReservationEvent[],
  ): Promise<ReservationOutcome> {
    const rows = rowsOf<{ outcome: 'decided' | 'earlier'; status: ReservationRow['status'] }>(
      await RESERVE_ORDER(this.db, {
        lockKey: `reservation:${orderId}`,
        products: textArray(lines.map((l) => l.productId)),
        quantities: `{${lines.map((l) => l.quantity).join(',')}}`,
        movementIds: textArray(movementIds),
        lineCount: lines.length,
        orderId,
        items: JSON.stringify(lines),
        at: new Date().toISOString(),
        events: JSON.stringify(events),
      }),
    );
    const decided = rows.find((r) => r.outcome === 'decided');
    if (decided) return { outcome: 'decided', status: decided.status as 'RESERVED' | 'REJECTED' };
    // The statement's snapshot predates its own claim, so a reservation seen here was decided before.
    const earlier = rows.find((r) => r.outcome === 'earlier');
    return earlier ? { outcome: 'earlier', status: earlier.status } : { outcome: 'raced' };
  }

  /** Ends a reservation; with `sold`, the units also leave on-hand stock. */
  async unreserve(line: OrderLine, sold: boolean): Promise<void> {
    await this.db
      .update(products)
      .set({
        reserved: sql`${products.reserved} - ${line.quantity}`,
        ...(sold ? { onHand: sql`${products.onHand} - ${line.quantity}` } : {}),
        updatedAt: new Date(),
      })
      .where(eq(products.id, line.productId));
  }

  async availability(productIds: string[]): Promise<Map<string, number>> {
    const rows = await this.db
      .select({ id: products.id, available: products.available })
      .from(products)
      .where(inArray(products.id, productIds));
    return new Map(rows.map((r) => [r.id, r.available]));
  }

  /**
   * Serializes everything inventory does for one order, across replicas, until the transaction ends,
   * then reads its reservation. A row lock alone cannot do this: before the first decision there is no
   * row to lock, and two replicas handling copies of one OrderPlaced would both reserve.
   */
  async lockReservation(orderId: string): Promise<ReservationRow | null> {
    await this.db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`reservation:${orderId}`}, 0))`);
    const [row] = await this.db.select().from(reservations).where(eq(reservations.orderId, orderId)).for('update');
    return row ?? null;
  }

  async saveReservation(orderId: string, status: ReservationRow['status'], items: OrderLine[]): Promise<void> {
    await this.db
      .insert(reservations)
      .values({ orderId, status, items })
      .onConflictDoUpdate({ target: reservations.orderId, set: { status, updatedAt: new Date() } });
  }

  /** Products whose stock columns differ from the sums of their ledger. */
  async ledgerMismatches(): Promise<LedgerMismatch[]> {
    const result = await this.db.execute(sql`
      ${LEDGER_TOTALS}
      select p.id as product_id, p.sku, p.on_hand, p.reserved,
        coalesce(l.on_hand, 0) as ledger_on_hand, coalesce(l.reserved, 0) as ledger_reserved
      from inventory.products p left join ledger l on l.product_id = p.id
      where p.on_hand <> coalesce(l.on_hand, 0) or p.reserved <> coalesce(l.reserved, 0)
      order by p.sku`);
    return rowsOf<Record<string, unknown>>(result).map((r) => ({
      productId: String(r.product_id),
      sku: String(r.sku),
      onHand: Number(r.on_hand),
      reserved: Number(r.reserved),
      ledgerOnHand: Number(r.ledger_on_hand),
      ledgerReserved: Number(r.ledger_reserved),
    }));
  }

  /**
   * Rewrites the stock columns from the ledger (the ledger is the source of truth). Takes the tables
   * for itself first: a reservation committing mid-statement would otherwise be overwritten by a sum
   * computed before it, and its units sold twice.
   */
  async rebuildFromLedger(): Promise<number> {
    await this.db.execute(sql`lock table inventory.products in exclusive mode`);
    await this.db.execute(sql`lock table inventory.stock_movements in share mode`);
    const result = await this.db.execute(sql`
      ${LEDGER_TOTALS}
      update inventory.products p set on_hand = coalesce(l.on_hand, 0), reserved = coalesce(l.reserved, 0), updated_at = now()
      from inventory.products p2 left join ledger l on l.product_id = p2.id
      where p.id = p2.id and (p.on_hand <> coalesce(l.on_hand, 0) or p.reserved <> coalesce(l.reserved, 0))
      returning p.id`);
    return rowsOf(result).length;
  }
}
