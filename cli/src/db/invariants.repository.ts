import { rowsOf, textArray, type Database } from '@stockgraph/db';
import { sql } from 'drizzle-orm';

type Db = Database<Record<string, unknown>>;

/** How many offending rows a query names; the count is always exact. */
export const NAMED_ROWS = 100;

/** The status of each named order, and whether it changed within the grace period (its saga may be moving). */
export async function orderStates(
  db: Db,
  ids: string[],
  graceSeconds: number,
): Promise<Map<string, { status: string; recent: boolean }>> {
  if (ids.length === 0) return new Map();
  const rows = rowsOf<{ id: string; status: string; recent: boolean }>(
    await db.execute(sql`
      select id, status::text, updated_at > now() - make_interval(secs => ${graceSeconds}) as recent
      from orders.orders where id = any(${textArray(ids)}::uuid[])`),
  );
  return new Map(rows.map((r) => [r.id, { status: r.status, recent: r.recent }]));
}

/** Every CONFIRMED order's lines: what inventory must hold reserved for it. */
export async function confirmedLines(db: Db): Promise<{ orderId: string; productId: string; quantity: number }[]> {
  return rowsOf<{ order_id: string; product_id: string; quantity: number }>(
    await db.execute(sql`
      select i.order_id, i.product_id, i.quantity from orders.orders o
      join orders.order_items i on i.order_id = o.id and i.created_at = o.created_at
      where o.status = 'CONFIRMED'`),
  ).map((r) => ({ orderId: r.order_id, productId: r.product_id, quantity: Number(r.quantity) }));
}

/** Inventory's side: each RESERVED reservation's items, and reservations that changed within the grace period. */
export async function reservedItems(
  db: Db,
  graceSeconds: number,
): Promise<{ orderId: string; productId: string; quantity: number; recent: boolean }[]> {
  return rowsOf<{ order_id: string; product_id: string; quantity: number; recent: boolean }>(
    await db.execute(sql`
      select r.order_id, i."productId" as product_id, i.quantity,
        r.updated_at > now() - make_interval(secs => ${graceSeconds}) as recent
      from inventory.reservations r,
        jsonb_to_recordset(r.items) as i("productId" uuid, quantity int)
      where r.status = 'RESERVED'`),
  ).map((r) => ({ orderId: r.order_id, productId: r.product_id, quantity: Number(r.quantity), recent: r.recent }));
}

/** Products whose reserved column differs from the sum of their RESERVED reservations (one snapshot). */
export async function reservedColumnDrift(db: Db): Promise<{ key: string; detail: string }[]> {
  return rowsOf<{ sku: string; id: string; reserved: number; expected: number }>(
    await db.execute(sql`
      with held as (
        select i."productId" as product_id, sum(i.quantity)::int as units
        from inventory.reservations r, jsonb_to_recordset(r.items) as i("productId" uuid, quantity int)
        where r.status = 'RESERVED' group by 1
      )
      select p.sku, p.id, p.reserved, coalesce(h.units, 0) as expected
      from inventory.products p left join held h on h.product_id = p.id
      where p.reserved <> coalesce(h.units, 0)
      order by p.sku limit ${NAMED_ROWS}`),
  ).map((r) => ({
    key: `product ${r.sku} (${r.id})`,
    detail: `reserved ${r.reserved}, RESERVED reservations hold ${r.expected}`,
  }));
}

/** Inventory's current prices, and the products whose price changed within the grace period. */
export async function currentPrices(
  db: Db,
  graceSeconds: number,
): Promise<Map<string, { sku: string; unitPrice: string; recent: boolean }>> {
  const rows = rowsOf<{ id: string; sku: string; unit_price: string; recent: boolean }>(
    await db.execute(sql`
      select p.id, p.sku, p.unit_price::text,
        (p.created_at > now() - make_interval(secs => ${graceSeconds})
          or exists (select 1 from inventory.price_history h where h.product_id = p.id
            and h.changed_at > now() - make_interval(secs => ${graceSeconds}))) as recent
      from inventory.products p`),
  );
  return new Map(rows.map((r) => [r.id, { sku: r.sku, unitPrice: r.unit_price, recent: r.recent }]));
}

/** The orders service's copy of the prices (kept from inventory's events). */
export async function copiedPrices(db: Db): Promise<Map<string, string>> {
  const rows = rowsOf<{ product_id: string; unit_price: string }>(
    await db.execute(sql`select product_id, unit_price::text from orders.product_prices`),
  );
  return new Map(rows.map((r) => [r.product_id, r.unit_price]));
}

/** Customers as the customers service holds them, with those created within the grace period marked. */
export async function customerIds(db: Db, graceSeconds: number): Promise<Map<string, boolean>> {
  const rows = rowsOf<{ id: string; recent: boolean }>(
    await db.execute(sql`
      select id, created_at > now() - make_interval(secs => ${graceSeconds}) as recent from customers.customers`),
  );
  return new Map(rows.map((r) => [r.id, r.recent]));
}

/** The orders service's copy of which customers exist, and the customers its orders name. */
export async function knownCustomers(db: Db): Promise<{ known: Set<string>; ordered: Set<string> }> {
  const known = rowsOf<{ customer_id: string }>(await db.execute(sql`select customer_id from orders.known_customers`));
  // From the per-customer totals (exact, kept with every order) rather than a scan of every order.
  const ordered = rowsOf<{ customer_id: string }>(
    await db.execute(
      sql`select customer_id from orders.customer_order_totals_current group by 1 having sum(order_count) > 0`,
    ),
  );
  return { known: new Set(known.map((r) => r.customer_id)), ordered: new Set(ordered.map((r) => r.customer_id)) };
}

/** Outbox rows not published within `boundSeconds` of being written. */
export async function lateOutboxRows(
  db: Db,
  schema: string,
  boundSeconds: number,
): Promise<{ count: number; rows: { key: string; detail: string }[] }> {
  const outbox = sql.raw(`${schema}.outbox`);
  const late = sql`published_at is null and created_at < now() - make_interval(secs => ${boundSeconds})`;
  const [counted] = rowsOf<{ n: number }>(
    await db.execute(sql`select count(*)::int as n from ${outbox} where ${late}`),
  );
  const rows = rowsOf<{ id: string; type: string; created_at: string }>(
    await db.execute(sql`
      select id, type, created_at::text from ${outbox} where ${late} order by id limit ${NAMED_ROWS}`),
  );
  return {
    count: Number(counted?.n ?? 0),
    rows: rows.map((r) => ({
      key: `${schema}.outbox ${r.id}`,
      detail: `${r.type} written ${r.created_at}, not published`,
    })),
  };
}

/** Orders PENDING for longer than `deadlineSeconds`. */
export async function overduePending(
  db: Db,
  deadlineSeconds: number,
): Promise<{ count: number; rows: { key: string; detail: string }[] }> {
  const overdue = sql`status = 'PENDING' and created_at < now() - make_interval(secs => ${deadlineSeconds})`;
  const [counted] = rowsOf<{ n: number }>(
    await db.execute(sql`select count(*)::int as n from orders.orders where ${overdue}`),
  );
  const rows = rowsOf<{ id: string; number: string; created_at: string }>(
    await db.execute(sql`
      select id, number, created_at::text from orders.orders where ${overdue} order by created_at limit ${NAMED_ROWS}`),
  );
  return {
    count: Number(counted?.n ?? 0),
    rows: rows.map((r) => ({ key: `order ${r.number} (${r.id})`, detail: `PENDING since ${r.created_at}` })),
  };
}
