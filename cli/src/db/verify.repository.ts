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

/**
 * Per imported order (by legacy id): its customer, its month in the shop's time zone, its total, and
 * the count, units and cents of its lines. The order totals, orders per customer and per month are
 * summed from these rows: each was a scan of the orders joined with the id map of its own.
 */
export async function importedOrders(sql: Sql, timeZone: string) {
  return sql<
    {
      legacy_id: string;
      customer_id: string;
      month: string;
      total_cents: string;
      lines: string;
      units: string;
      line_cents: string;
    }[]
  >`
    with lines as (
      select order_id, created_at, count(*) as n, sum(quantity) as units, sum(line_total) as line_total
      from orders.order_items group by order_id, created_at)
    select m.legacy_id::text, o.customer_id::text, to_char(o.created_at at time zone ${timeZone}, 'YYYY-MM') as month,
      (o.total * 100)::bigint::text as total_cents, coalesce(l.n, 0)::text as lines,
      coalesce(l.units, 0)::text as units, coalesce(l.line_total * 100, 0)::bigint::text as line_cents
    from orders.orders o
    join legacy_import.id_map m on m.legacy_table = 'orders' and m.new_id = o.id
    left join lines l on l.order_id = o.id and l.created_at = o.created_at`;
}

/** The lines of the imported orders per product and month (shop's time zone): count, units, cents. */
export async function importedItemsPerMonth(sql: Sql, timeZone: string) {
  return sql<{ month: string; product_id: string; lines: string; units: string; cents: string }[]>`
    select to_char(i.created_at at time zone ${timeZone}, 'YYYY-MM') as month, i.product_id::text,
      count(*)::text as lines, sum(i.quantity)::text as units, (sum(i.line_total) * 100)::bigint::text as cents
    from orders.order_items i join legacy_import.id_map m on m.legacy_table = 'orders' and m.new_id = i.order_id
    group by 1, 2`;
}

/** Stock changes imported from the legacy log, per product and month (shop's time zone), and their count. */
export async function importedLogPerMonth(sql: Sql, timeZone: string) {
  return sql<{ month: string; product_id: string; n: string; delta: string }[]>`
    select to_char(s.created_at at time zone ${timeZone}, 'YYYY-MM') as month, s.product_id::text,
      count(*)::text as n, sum(s.delta)::text as delta
    from inventory.stock_movements s
    join legacy_import.id_map m on m.legacy_table = 'inventory_log' and m.new_id = s.id
    group by 1, 2`;
}
