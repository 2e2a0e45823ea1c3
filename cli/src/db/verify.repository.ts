/** The Stockgraph side of the import's verification: plain aggregates over the imported rows. */
import type { Sql } from './import.repository.js';

const imported = (table: string, alias: string, column = 'id') =>
  `join legacy_import.id_map m on m.legacy_table = '${table}' and m.new_id = ${alias}.${column}`;

export async function countImported(sql: Sql, target: string, legacyTable: string): Promise<number> {
  const [row] = await sql.unsafe<{ n: string }[]>(
    `select count(*)::text as n from ${target} t ${imported(legacyTable, 't')}`,
  );
  return Number(row!.n);
}

/** new id → legacy id for one legacy table. */
export async function idMap(sql: Sql, legacyTable: string): Promise<Map<string, number>> {
  const rows = await sql<{ legacy_id: string; new_id: string }[]>`
    select legacy_id::text, new_id::text from legacy_import.id_map where legacy_table = ${legacyTable}`;
  return new Map(rows.map((r) => [r.new_id, Number(r.legacy_id)]));
}

export async function ledgerTotals(sql: Sql) {
  const [row] = await sql.unsafe<{ n: string; delta: string }[]>(
    `select count(*)::text as n, coalesce(sum(delta), 0)::text as delta from inventory.stock_movements t ${imported('inventory_log', 't')}`,
  );
  return { count: Number(row!.n), delta: Number(row!.delta) };
}

export async function orderTotals(sql: Sql) {
  const [row] = await sql.unsafe<{ orders: string; total: string }[]>(
    `select count(*)::text as orders, coalesce(sum(total * 100), 0)::bigint::text as total from orders.orders t ${imported('orders', 't')}`,
  );
  const [items] = await sql.unsafe<{ n: string; quantity: string; line_total: string }[]>(`
    select count(*)::text as n, coalesce(sum(i.quantity), 0)::text as quantity, coalesce(sum(i.line_total * 100), 0)::bigint::text as line_total
    from orders.order_items i join legacy_import.id_map m on m.legacy_table = 'orders' and m.new_id = i.order_id`);
  return {
    orders: Number(row!.orders),
    totalCents: Number(row!.total),
    items: Number(items!.n),
    quantity: Number(items!.quantity),
    lineCents: Number(items!.line_total),
  };
}

export async function ordersPerCustomer(sql: Sql) {
  return sql.unsafe<{ customer_id: string; n: string }[]>(
    `select t.customer_id::text, count(*)::text as n from orders.orders t ${imported('orders', 't')} group by t.customer_id`,
  );
}

/*
 * The Stockgraph side of the reconciliation (import/verify.ts) that the merges and placeholders need:
 * products keyed by their Stockgraph id with every legacy id mapped to them, and figures per order
 * and per month. Months are the shop's (the import's --time-zone), as on the legacy side.
 */

/** Legacy product id → Stockgraph product id: imported, merged into another, or a placeholder. */
export async function productIdMap(sql: Sql, placeholderTable: string) {
  return sql<{ legacy_table: string; legacy_id: string; new_id: string }[]>`
    select legacy_table, legacy_id::text, new_id::text from legacy_import.id_map
    where legacy_table in ('products', ${placeholderTable}) order by legacy_id`;
}

/** Each product the import wrote (a survivor counted once however many legacy rows merged into it). */
export async function importedProductFigures(sql: Sql, placeholderTable: string) {
  // The ledger summed in one pass over the movements: a sum per product looked up product by product
  // probes every monthly partition's index once per product.
  return sql<{ id: string; placeholder: boolean; on_hand: number; price_cents: string; ledger: string }[]>`
    with ledger as (
      select product_id, sum(delta) as delta from inventory.stock_movements
      where reason in ('RECEIPT', 'SALE', 'ADJUSTMENT', 'RETURN') group by product_id)
    select p.id::text, bool_or(m.legacy_table = ${placeholderTable}) as placeholder, p.on_hand,
      (p.unit_price * 100)::bigint::text as price_cents, coalesce(l.delta, 0)::text as ledger
    from inventory.products p
    join legacy_import.id_map m on m.legacy_table in ('products', ${placeholderTable}) and m.new_id = p.id
    left join ledger l on l.product_id = p.id
    group by p.id, l.delta`;
}

/** Per imported order (by legacy id): its total, and the sums of its lines. */
export async function importedOrderFigures(sql: Sql) {
  return sql<{ legacy_id: string; total_cents: string; units: string; line_cents: string }[]>`
    with lines as (
      select order_id, created_at, sum(quantity) as units, sum(line_total) as line_total
      from orders.order_items group by order_id, created_at)
    select m.legacy_id::text, (o.total * 100)::bigint::text as total_cents,
      coalesce(l.units, 0)::text as units, coalesce(l.line_total * 100, 0)::bigint::text as line_cents
    from orders.orders o
    join legacy_import.id_map m on m.legacy_table = 'orders' and m.new_id = o.id
    left join lines l on l.order_id = o.id and l.created_at = o.created_at`;
}

/** Per month of the shop's time zone: imported orders, their revenue and their distinct customers. */
export async function importedOrdersPerMonth(sql: Sql, timeZone: string) {
  return sql<{ month: string; orders: string; cents: string; customers: string }[]>`
    select to_char(o.created_at at time zone ${timeZone}, 'YYYY-MM') as month, count(*)::text as orders,
      sum(o.total * 100)::bigint::text as cents, count(distinct o.customer_id)::text as customers
    from orders.orders o join legacy_import.id_map m on m.legacy_table = 'orders' and m.new_id = o.id
    group by 1`;
}

/** Units of the imported orders per product and month (shop's time zone). */
export async function importedUnitsPerMonth(sql: Sql, timeZone: string) {
  return sql<{ month: string; product_id: string; units: string }[]>`
    select to_char(i.created_at at time zone ${timeZone}, 'YYYY-MM') as month, i.product_id::text,
      sum(i.quantity)::text as units
    from orders.order_items i join legacy_import.id_map m on m.legacy_table = 'orders' and m.new_id = i.order_id
    group by 1, 2`;
}

/** Stock changes imported from the legacy log, per product and month (shop's time zone). */
export async function importedLogPerMonth(sql: Sql, timeZone: string) {
  return sql<{ month: string; product_id: string; delta: string }[]>`
    select to_char(s.created_at at time zone ${timeZone}, 'YYYY-MM') as month, s.product_id::text,
      sum(s.delta)::text as delta
    from inventory.stock_movements s
    join legacy_import.id_map m on m.legacy_table = 'inventory_log' and m.new_id = s.id
    group by 1, 2`;
}
