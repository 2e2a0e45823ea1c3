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

export async function productFigures(sql: Sql) {
  return sql<{ id: string; on_hand: number; price_cents: string; ledger: string }[]>`
    select p.id::text, p.on_hand, (p.unit_price * 100)::bigint::text as price_cents,
      coalesce((select sum(delta) from inventory.stock_movements s
        where s.product_id = p.id and s.reason in ('RECEIPT', 'SALE', 'ADJUSTMENT', 'RETURN')), 0)::text as ledger
    from inventory.products p join legacy_import.id_map m on m.legacy_table = 'products' and m.new_id = p.id`;
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

export async function unitsPerProduct(sql: Sql) {
  return sql<{ product_id: string; n: string }[]>`
    select i.product_id::text, sum(i.quantity)::text as n from orders.order_items i
    join legacy_import.id_map m on m.legacy_table = 'orders' and m.new_id = i.order_id group by i.product_id`;
}
