/**
 * Proves the import: every figure is computed twice, from the legacy file with SQLite's own SQL
 * (over the rows not quarantined) and from Stockgraph's tables, and the two must agree, overall, per
 * order and per month. Money on the legacy side goes through `legacy_cents`, the documented rounding
 * rule written again here, apart from the importer's code. Rows merged into another (a duplicate SKU,
 * a repeated line) count as imported: figures per product are keyed by the Stockgraph product,
 * reached from each legacy product id through the id map, so a merged product's units and stock are
 * compared with its survivor's. A month is the month of the order's (or log row's) created_at in the
 * shop's time zone, the import's --time-zone: the legacy text as written, Stockgraph's instant
 * converted back to that zone.
 */
import { LEGACY_TABLES, type LegacyTable } from '../legacy/reader.js';
import { transaction, type SqliteDatabase } from '../legacy/sqlite.js';
import { connect, type Sql } from '../db/import.repository.js';
import {
  countImported,
  idMap,
  importedLogPerMonth,
  importedOrderFigures,
  importedOrdersPerMonth,
  importedProductFigures,
  importedUnitsPerMonth,
  ledgerTotals,
  orderTotals,
  ordersPerCustomer,
  productIdMap,
} from '../db/verify.repository.js';
import type { SubgraphName } from '../targets.js';
import { PLACEHOLDER_ID_MAP } from './mapping.js';
import type { QuarantineEntry } from './plan.js';

export interface Difference {
  table: string;
  id: number | string;
  legacy: number | string | null;
  stockgraph: number | string | null;
}

export interface Check {
  name: string;
  legacy: number;
  stockgraph: number;
  ok: boolean;
  differences: Difference[];
}

export interface Verification {
  ok: boolean;
  checks: Check[];
}

/** Half-up to cents from the shortest decimal text of the float, by string arithmetic. */
function legacyCents(value: number | null): number | null {
  if (value === null) return null;
  const text = Math.abs(value).toFixed(20).replace(/0+$/, '');
  const shortest = String(Math.abs(value));
  const source = shortest.includes('e') ? text : shortest;
  const dot = source.indexOf('.');
  const whole = dot < 0 ? source : source.slice(0, dot);
  const fraction = dot < 0 ? '' : source.slice(dot + 1);
  const scaled = BigInt(whole + (fraction + '00').slice(0, 2)) + (Number((fraction + '000')[2]) >= 5 ? 1n : 0n);
  return Number(value < 0 ? -scaled : scaled);
}

type Key = number | string;

/** Compares two keyed figures; a key missing on one side counts 0 there. `label` names the row. */
function compareMaps(
  name: string,
  table: string,
  legacy: Map<Key, number>,
  stockgraph: Map<Key, number>,
  label: (key: Key) => Key = (key) => key,
): Check {
  const differences: Difference[] = [];
  for (const key of new Set([...legacy.keys(), ...stockgraph.keys()])) {
    const a = legacy.get(key) ?? 0;
    const b = stockgraph.get(key) ?? 0;
    if (a !== b) differences.push({ table, id: label(key), legacy: a, stockgraph: b });
  }
  const sum = (m: Map<Key, number>) => [...m.values()].reduce((x, y) => x + y, 0);
  return { name, legacy: sum(legacy), stockgraph: sum(stockgraph), ok: differences.length === 0, differences };
}

const scalar = (name: string, legacy: number, stockgraph: number): Check => ({
  name,
  legacy,
  stockgraph,
  ok: legacy === stockgraph,
  differences: legacy === stockgraph ? [] : [{ table: '(total)', id: name, legacy, stockgraph }],
});

type Figures = Map<Key, number>;

const keyed = <R>(rows: readonly R[], key: (r: R) => Key, value: (r: R) => number | string): Figures =>
  new Map<Key, number>(rows.map((r) => [key(r), Number(value(r))]));

/** The shop-local month of a legacy timestamp, as written: 'YYYY-MM-DD …' and 'YYYY/MM/DD …'. */
const legacyMonth = (column: string) => `replace(substr(${column}, 1, 7), '/', '-')`;

/**
 * The legacy side, in SQLite over the rows not quarantined. Products are keyed by the Stockgraph
 * product each legacy id went to (`temp.product_map`, filled from the id map), or `#<legacy id>` for
 * one that went nowhere.
 */
function legacyFigures(legacy: SqliteDatabase) {
  const one = (query: string) => Number(Object.values(legacy.prepare(query).get() as Record<string, number>)[0] ?? 0);
  const all = <R>(query: string) => legacy.prepare(query).all() as R[];
  const kept = (table: string, alias = table) =>
    `not exists (select 1 from temp.quarantined q where q.tbl = '${table}' and q.id = ${alias}.id)`;
  const mapped = (column: string) => `coalesce(pm.new_id, '#' || ${column})`;
  const rows = Object.fromEntries(
    LEGACY_TABLES.map((table) => [
      table,
      {
        total: one(`select count(*) from ${table}`),
        quarantined: one(`select count(*) from temp.quarantined where tbl = '${table}'`),
        imported: one(`select count(*) from ${table} where ${kept(table)}`),
        merged: one(`select count(*) from temp.merged where tbl = '${table}'`),
      },
    ]),
  ) as Record<LegacyTable, { total: number; quarantined: number; imported: number; merged: number }>;

  // Every order line imported (alone or merged into another) with its order's month, its Stockgraph
  // product, and its cents by the documented rule: each line's money is computed once.
  legacy.exec(`
    drop table if exists temp.kept_lines;
    create temp table kept_lines as
      select i.order_id, ${legacyMonth('o.created_at')} as month, ${mapped('i.product_id')} as product,
        i.quantity, legacy_cents(i.unit_price) * i.quantity as cents
      from order_items i join orders o on o.id = i.order_id
      left join temp.product_map pm on pm.legacy_id = i.product_id
      where ${kept('order_items', 'i')} and ${kept('orders', 'o')};`);
  const keptOrders = `from orders o where ${kept('orders', 'o')}`;
  const keptProducts = `from products p left join temp.product_map pm on pm.legacy_id = p.id where ${kept('products', 'p')}`;
  return {
    rows,
    quantity: one('select coalesce(sum(quantity), 0) from temp.kept_lines'),
    lineCents: one('select coalesce(sum(cents), 0) from temp.kept_lines'),
    logDelta: one(`select coalesce(sum(change), 0) from inventory_log l where ${kept('inventory_log', 'l')}`),
    // A merged product's price is not imported: the survivor's is.
    priceCents: one(
      `select coalesce(sum(legacy_cents(price)), 0) ${keptProducts}
       and not exists (select 1 from temp.merged m where m.tbl = 'products' and m.id = p.id)`,
    ),
    stock: keyed(
      all<{ product: string; n: number }>(
        `select ${mapped('p.id')} as product, sum(p.stock) as n ${keptProducts} group by 1`,
      ),
      (r) => r.product,
      (r) => r.n,
    ),
    ordersPerCustomer: keyed(
      all<{ id: number; n: number }>(`select customer_id as id, count(*) as n ${keptOrders} group by customer_id`),
      (r) => r.id,
      (r) => r.n,
    ),
    units: keyed(
      all<{ product: string; n: number }>('select product, sum(quantity) as n from temp.kept_lines group by product'),
      (r) => r.product,
      (r) => r.n,
    ),
    perOrder: all<{ id: number; cents: number; units: number }>(
      'select order_id as id, sum(cents) as cents, sum(quantity) as units from temp.kept_lines group by order_id',
    ),
    perMonth: all<{ month: string; orders: number; customers: number }>(
      `select ${legacyMonth('o.created_at')} as month, count(*) as orders, count(distinct o.customer_id) as customers
       ${keptOrders} group by 1`,
    ),
    revenuePerMonth: keyed(
      all<{ month: string; cents: number }>('select month, sum(cents) as cents from temp.kept_lines group by month'),
      (r) => r.month,
      (r) => r.cents,
    ),
    unitsPerMonth: keyed(
      all<{ key: string; n: number }>(
        "select month || ' ' || product as key, sum(quantity) as n from temp.kept_lines group by month, product",
      ),
      (r) => r.key,
      (r) => r.n,
    ),
    logPerMonth: keyed(
      all<{ key: string; n: number }>(
        `select ${legacyMonth('l.created_at')} || ' ' || ${mapped('l.product_id')} as key, sum(l.change) as n
         from inventory_log l left join temp.product_map pm on pm.legacy_id = l.product_id
         where ${kept('inventory_log', 'l')} group by 1`,
      ),
      (r) => r.key,
      (r) => r.n,
    ),
  };
}

export async function verifyImport(
  legacy: SqliteDatabase,
  urls: Record<SubgraphName, string>,
  quarantine: QuarantineEntry[],
  timeZone: string,
): Promise<Verification> {
  legacy.function('legacy_cents', { deterministic: true }, (v: unknown) => legacyCents(v === null ? null : Number(v)));
  legacy.exec(`
    create temp table if not exists quarantined (tbl text not null, id integer not null, primary key (tbl, id));
    create temp table if not exists merged (tbl text not null, id integer not null, primary key (tbl, id));
    create temp table if not exists product_map (legacy_id integer primary key, new_id text not null);
    delete from quarantined; delete from merged; delete from product_map;`);
  const insert = legacy.prepare('insert or ignore into quarantined (tbl, id) values (?, ?)');
  const insertMerged = legacy.prepare('insert or ignore into merged (tbl, id) values (?, ?)');
  transaction(legacy, () => {
    for (const q of quarantine)
      if (q.action === 'not-imported') insert.run(q.table, q.id);
      else if (q.action === 'merged') insertMerged.run(q.table, q.id);
  });

  const connections = new Map<string, Sql>();
  const sqlOf = (name: SubgraphName) => {
    if (!connections.has(urls[name])) connections.set(urls[name], connect(urls[name]));
    return connections.get(urls[name])!;
  };
  try {
    // The Stockgraph side's queries go out first: the server works on them while SQLite, which
    // blocks this thread, computes the legacy side.
    const stockgraph = {
      productIds: productIdMap(sqlOf('inventory'), PLACEHOLDER_ID_MAP),
      users: countImported(sqlOf('users'), 'users.users', 'users'),
      // One per legacy product that landed in a Stockgraph product: a survivor once for itself and
      // once for each product merged into it.
      products: countImported(sqlOf('inventory'), 'inventory.products', 'products'),
      customers: countImported(sqlOf('customers'), 'customers.customers', 'customers'),
      orders: orderTotals(sqlOf('orders')),
      ledger: ledgerTotals(sqlOf('inventory')),
      productFigures: importedProductFigures(sqlOf('inventory'), PLACEHOLDER_ID_MAP),
      customerIds: idMap(sqlOf('customers'), 'customers'),
      ordersPerCustomer: ordersPerCustomer(sqlOf('orders')),
      perOrder: importedOrderFigures(sqlOf('orders')),
      perMonth: importedOrdersPerMonth(sqlOf('orders'), timeZone),
      unitsPerMonth: importedUnitsPerMonth(sqlOf('orders'), timeZone),
      logPerMonth: importedLogPerMonth(sqlOf('inventory'), timeZone),
    };
    // Settled below one by one; a failure must not go unhandled in the meantime.
    for (const pending of Object.values(stockgraph)) (pending as Promise<unknown>).catch(() => {});

    // The legacy side needs one thing of Stockgraph's: which product each legacy product id became.
    const insertProduct = legacy.prepare('insert into product_map (legacy_id, new_id) values (?, ?)');
    const legacyIdsOf = new Map<string, { ids: number[]; placeholder: boolean }>();
    const productIds = await stockgraph.productIds;
    transaction(legacy, () => {
      for (const r of productIds) {
        insertProduct.run(Number(r.legacy_id), r.new_id);
        const entry = legacyIdsOf.get(r.new_id) ?? { ids: [], placeholder: r.legacy_table === PLACEHOLDER_ID_MAP };
        entry.ids.push(Number(r.legacy_id));
        legacyIdsOf.set(r.new_id, entry);
      }
    });
    /** The legacy ids behind a Stockgraph product: `#6`, `#6 (+#9, #12 merged)`, `#25 (placeholder)`. */
    const productLabel = (key: Key) => {
      const entry = legacyIdsOf.get(String(key));
      if (!entry) return String(key).startsWith('#') ? `${key} (not in the id map)` : `${key} (not imported)`;
      const [first, ...merged] = entry.ids;
      return `#${first}${entry.placeholder ? ' (placeholder)' : ''}${merged.length ? ` (+${merged.map((m) => `#${m}`).join(', ')} merged)` : ''}`;
    };
    const monthProductLabel = (key: Key) => {
      const [month, product] = String(key).split(' ');
      return `${month} ${productLabel(product!)}`;
    };
    const legacySide = legacyFigures(legacy);

    const checks: Check[] = [];
    // Nothing vanished: each legacy row is imported (merged into another row counts) or quarantined,
    // never both, never neither.
    const accounted = (table: LegacyTable, imported: number) => {
      const { total, quarantined, imported: kept } = legacySide.rows[table];
      checks.push(scalar(`${table}: legacy rows = imported + quarantined`, total, imported + quarantined));
      checks.push(scalar(`${table}: rows imported`, kept, imported));
    };
    accounted('users', await stockgraph.users);
    accounted('products', await stockgraph.products);
    accounted('customers', await stockgraph.customers);
    const orders = await stockgraph.orders;
    accounted('orders', orders.orders);
    accounted('order_items', orders.items + legacySide.rows.order_items.merged);
    const ledger = await stockgraph.ledger;
    accounted('inventory_log', ledger.count);

    checks.push(scalar('order items: sum of quantities', legacySide.quantity, orders.quantity));
    checks.push(scalar('order items: sum of line totals (cents)', legacySide.lineCents, orders.lineCents));
    checks.push(scalar('orders: sum of totals (cents) = their items', legacySide.lineCents, orders.totalCents));
    checks.push(scalar('inventory log: sum of changes', legacySide.logDelta, ledger.delta));

    const products = await stockgraph.productFigures;
    const survivors = products.filter((p) => !p.placeholder);
    checks.push(
      scalar(
        'products: sum of prices (cents)',
        legacySide.priceCents,
        survivors.reduce((a, p) => a + Number(p.price_cents), 0),
      ),
    );
    checks.push(
      compareMaps(
        'products: stock on hand per product',
        'products',
        legacySide.stock,
        keyed(
          survivors,
          (p) => p.id,
          (p) => p.on_hand,
        ),
        productLabel,
      ),
    );
    checks.push(
      compareMaps(
        'products: stock on hand = sum of the ledger',
        'products',
        keyed(
          products,
          (p) => p.id,
          (p) => p.on_hand,
        ),
        keyed(
          products,
          (p) => p.id,
          (p) => p.ledger,
        ),
        productLabel,
      ),
    );
    const customerIds = await stockgraph.customerIds;
    checks.push(
      compareMaps(
        'orders per customer',
        'customers',
        legacySide.ordersPerCustomer,
        keyed(
          await stockgraph.ordersPerCustomer,
          (r) => customerIds.get(r.customer_id) ?? -1,
          (r) => r.n,
        ),
      ),
    );
    const unitsPerMonth = await stockgraph.unitsPerMonth;
    const units: Figures = new Map();
    for (const r of unitsPerMonth) units.set(r.product_id, (units.get(r.product_id) ?? 0) + Number(r.units));
    checks.push(compareMaps('units ordered per product', 'products', legacySide.units, units, productLabel));

    // Each order: its total and its lines' totals to the cent, its units (a difference names the order).
    const perOrder = await stockgraph.perOrder;
    const orderId = (r: { legacy_id: string }) => Number(r.legacy_id);
    const legacyOrderCents = keyed(
      legacySide.perOrder,
      (r) => r.id,
      (r) => r.cents,
    );
    checks.push(
      compareMaps(
        'orders: total per order (cents) = its legacy lines',
        'orders',
        legacyOrderCents,
        keyed(perOrder, orderId, (r) => r.total_cents),
      ),
    );
    checks.push(
      compareMaps(
        'orders: line totals per order (cents)',
        'orders',
        legacyOrderCents,
        keyed(perOrder, orderId, (r) => r.line_cents),
      ),
    );
    checks.push(
      compareMaps(
        'orders: units per order',
        'orders',
        keyed(
          legacySide.perOrder,
          (r) => r.id,
          (r) => r.units,
        ),
        keyed(perOrder, orderId, (r) => r.units),
      ),
    );

    // Per month of the shop's time zone.
    const perMonth = await stockgraph.perMonth;
    const month = (r: { month: string }) => r.month;
    checks.push(
      compareMaps(
        'per month: orders',
        'orders',
        keyed(legacySide.perMonth, month, (r) => r.orders),
        keyed(perMonth, month, (r) => r.orders),
      ),
    );
    checks.push(
      compareMaps(
        'per month: revenue (cents)',
        'orders',
        legacySide.revenuePerMonth,
        keyed(perMonth, month, (r) => r.cents),
      ),
    );
    checks.push(
      compareMaps(
        'per month: customers with orders',
        'customers',
        keyed(legacySide.perMonth, month, (r) => r.customers),
        keyed(perMonth, month, (r) => r.customers),
      ),
    );
    checks.push(
      compareMaps(
        'per month: units per product',
        'products',
        legacySide.unitsPerMonth,
        keyed(
          unitsPerMonth,
          (r) => `${r.month} ${r.product_id}`,
          (r) => r.units,
        ),
        monthProductLabel,
      ),
    );
    checks.push(
      compareMaps(
        'per month: stock changes per product (log)',
        'products',
        legacySide.logPerMonth,
        keyed(
          await stockgraph.logPerMonth,
          (r) => `${r.month} ${r.product_id}`,
          (r) => r.delta,
        ),
        monthProductLabel,
      ),
    );
    return { ok: checks.every((c) => c.ok), checks };
  } finally {
    await Promise.all([...connections.values()].map((sql) => sql.end({ timeout: 5 })));
  }
}
