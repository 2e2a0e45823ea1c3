import { compiled, rowsOf, textArray, type Database } from '@stockgraph/db';
import type { OutboxRow } from '@stockgraph/events';
import { idTime } from '@stockgraph/ids';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { ORDER_COLUMNS, toOrderRow, type RawOrder } from './order.repository.js';
import type * as schema from './schema.js';
import {
  idempotencyKeys,
  knownCustomers,
  orders,
  productPrices,
  type OrderRejection,
  type OrderRow,
} from './schema.js';

/**
 * The NOTIFY channel on which committed order outcomes are announced. The payload is the decision as
 * JSON (`OutcomeNotice`), so the replica whose placeOrder call waits for it need not read the order
 * again; a bare order id (what earlier versions sent) still wakes the call, which then reads it.
 */
export const ORDER_OUTCOME_CHANNEL = 'orders_outcome';

/** What an outcome NOTIFY carries: what the decision changed on the order. */
export type OutcomeNotice = { id: string } & Partial<Pick<OrderRow, 'status' | 'updatedAt' | 'rejection'>>;

export function parseOutcomeNotice(payload: string): OutcomeNotice {
  if (!payload.startsWith('{')) return { id: payload };
  const notice = JSON.parse(payload) as {
    id: string;
    status: OrderRow['status'];
    updatedAt: string;
    rejection: OrderRejection | null;
  };
  return { id: notice.id, status: notice.status, updatedAt: new Date(notice.updatedAt), rejection: notice.rejection };
}

type Status = OrderRow['status'];

/** What one placement statement did: created the order, found the key used before, or wrote nothing. */
export type Placement =
  | { outcome: 'created'; order: OrderRow }
  | { outcome: 'earlier'; requestHash: string; resultId: string | null }
  | { outcome: 'invalid'; customerKnown: boolean; unknownProducts: string[] }
  /** The key's first attempt committed while this statement waited on it: read the key again. */
  | { outcome: 'raced' };

export interface NewPlacement {
  orderId: string;
  createdAt: Date;
  customerId: string;
  userId: string;
  lines: { productId: string; quantity: number }[];
  claim: { key: string; requestHash: string };
  events: OutboxRow[];
}

interface RawPlacement {
  outcome: 'created' | 'earlier' | 'invalid';
  id: string | null;
  number: string | null;
  total: string | null;
  request_hash: string | null;
  result_id: string | null;
  customer_known: boolean | null;
  unknown_products: string | null;
}

/** OrderWriter.place's statement (rendered once: see `compiled`). */
const PLACE = compiled(
  ['products', 'quantities', 'lineCount', 'customerId', 'userId', 'key', 'requestHash', 'orderId', 'at', 'events'],
  (v) => sql`
    with wanted as (
      select * from unnest(${v.products}::uuid[], ${v.quantities}::int[]) as w(product_id, quantity)
    ), priced as (
      select w.product_id, w.quantity, p.unit_price, p.unit_price * w.quantity as line_total
      from wanted w join orders.product_prices p on p.product_id = w.product_id
    ), valid as (
      select exists (select 1 from orders.known_customers where customer_id = ${v.customerId}::uuid) as customer_known,
        (select count(*) from priced) = ${v.lineCount}::int as products_known
    ), claim as (
      insert into orders.idempotency_keys (user_id, key, request_hash, result_id)
      select ${v.userId}::uuid, ${v.key}, ${v.requestHash}, ${v.orderId}::uuid
      from valid where customer_known and products_known
      on conflict do nothing
      returning result_id
    ), numbered as (
      select nextval('orders.order_number_seq')::text as n from claim
    ), created as (
      insert into orders.orders (id, created_at, updated_at, number, customer_id, status, total, created_by)
      select ${v.orderId}::uuid, ${v.at}::timestamptz, ${v.at}::timestamptz,
        'SG-' || lpad(n, greatest(7, length(n)), '0'), ${v.customerId}::uuid, 'PENDING',
        (select sum(line_total) from priced), ${v.userId}::uuid
      from numbered
      returning id, number, total
    ), lines as (
      insert into orders.order_items (order_id, created_at, product_id, quantity, unit_price, line_total)
      select c.id, ${v.at}::timestamptz, p.product_id, p.quantity, p.unit_price, p.line_total
      from created c cross join priced p
    ), events as (
      insert into orders.outbox (id, stream, type, payload)
      select e.id, e.stream, e.type, e.payload
      from created, jsonb_to_recordset(${v.events}::jsonb) as e(id uuid, stream text, type text, payload jsonb)
    )
    select 'created' as outcome, id, number, total::text as total, null as request_hash, null as result_id,
      null::boolean as customer_known, null as unknown_products
    from created
    union all
    select 'earlier', null, null, null, k.request_hash, k.result_id::text, null, null
    from orders.idempotency_keys k
    where k.user_id = ${v.userId}::uuid and k.key = ${v.key}
    union all
    select 'invalid', null, null, null, null, null, v.customer_known,
      (select string_agg(w.product_id::text, ',' order by w.product_id)
       from wanted w where not exists (select 1 from priced x where x.product_id = w.product_id))
    from valid v where not (v.customer_known and v.products_known)`,
);

/** OrderWriter.decide's statement (rendered once: see `compiled`). */
const DECIDE = compiled(
  ['id', 'createdAt', 'to', 'at', 'rejection', 'eventId', 'stream', 'type', 'payload'],
  (v) => sql`
    with moved as (
      update orders.orders o
      set status = ${v.to}, updated_at = ${v.at}::timestamptz,
        rejection = coalesce(${v.rejection}::jsonb, o.rejection)
      where o.id = ${v.id}::uuid and o.created_at = ${v.createdAt}::timestamptz and o.status = 'PENDING'
      returning ${ORDER_COLUMNS}
    ), event as (
      insert into orders.outbox (id, stream, type, payload)
      select ${v.eventId}::uuid, ${v.stream}, ${v.type},
        jsonb_set(${v.payload}::jsonb, '{createdBy}', coalesce(to_jsonb(m.created_by), 'null'))
      from moved m
    )
    select m.*, pg_notify(${ORDER_OUTCOME_CHANNEL}, json_build_object('id', m.id, 'status', m.status,
      'updatedAt', m.updated_at, 'rejection', m.rejection::jsonb)::text) is null as notified
    from moved m`,
);

/** The write side of orders: one statement per method, always inside the caller's transaction. */
export class OrderWriter {
  constructor(private readonly db: Database<typeof schema>) {}

  /**
   * Places an order in one statement, which PostgreSQL runs as one transaction: claims the idempotency
   * key, numbers the order, writes it with its lines priced from `product_prices`, and queues its events,
   * all only when the customer and every product are known and the key is new. One round trip instead
   * of a dozen: on this path every statement costs a network write and a read on both sides.
   */
  async place(p: NewPlacement): Promise<Placement> {
    const rows = rowsOf<RawPlacement>(
      await PLACE(this.db, {
        products: textArray(p.lines.map((l) => l.productId)),
        quantities: `{${p.lines.map((l) => l.quantity).join(',')}}`,
        lineCount: p.lines.length,
        customerId: p.customerId,
        userId: p.userId,
        key: p.claim.key,
        requestHash: p.claim.requestHash,
        orderId: p.orderId,
        at: p.createdAt.toISOString(),
        events: JSON.stringify(p.events),
      }),
    );
    const created = rows.find((r) => r.outcome === 'created');
    if (created)
      return {
        outcome: 'created',
        order: {
          id: p.orderId,
          createdAt: p.createdAt,
          updatedAt: p.createdAt,
          number: created.number!,
          customerId: p.customerId,
          status: 'PENDING',
          total: created.total!,
          createdBy: p.userId,
          rejection: null,
        },
      };
    // The statement's snapshot predates its own claim, so a key seen here was used by an earlier request.
    const earlier = rows.find((r) => r.outcome === 'earlier');
    if (earlier) return { outcome: 'earlier', requestHash: earlier.request_hash!, resultId: earlier.result_id };
    const invalid = rows.find((r) => r.outcome === 'invalid');
    if (invalid)
      return {
        outcome: 'invalid',
        customerKnown: Boolean(invalid.customer_known),
        unknownProducts: invalid.unknown_products ? invalid.unknown_products.split(',') : [],
      };
    return { outcome: 'raced' };
  }

  /** A key's row, read afresh. */
  async claimOf(userId: string, key: string): Promise<{ requestHash: string; resultId: string | null } | null> {
    const [row] = await this.db
      .select({ requestHash: idempotencyKeys.requestHash, resultId: idempotencyKeys.resultId })
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key)));
    return row ?? null;
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
   * Applies inventory's answer to a PENDING order in one statement: moves it to `to`, queues
   * `statusEvent` (an OrderStatusChanged whose author is taken from the row) and tells every orders
   * replica, once this transaction commits, that the order has its outcome: the placeOrder call waiting
   * for it may be on any of them. Null when the order was no longer PENDING (a late or repeated answer).
   */
  async decide(
    id: string,
    to: 'CONFIRMED' | 'REJECTED',
    rejection: OrderRejection | null,
    statusEvent: OutboxRow,
  ): Promise<OrderRow | null> {
    const [row] = rowsOf<RawOrder>(
      await DECIDE(this.db, {
        id,
        createdAt: idTime(id).toISOString(),
        to,
        at: new Date().toISOString(),
        rejection: rejection ? JSON.stringify(rejection) : null,
        eventId: statusEvent.id,
        stream: statusEvent.stream,
        type: statusEvent.type,
        payload: JSON.stringify(statusEvent.payload),
      }),
    );
    return row ? toOrderRow(row) : null;
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
