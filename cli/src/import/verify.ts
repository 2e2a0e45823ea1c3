/**
 * Proves the import: every figure is computed twice, from the legacy file with SQLite's own SQL
 * (over the rows not quarantined) and from Stockgraph's tables, and the two must agree. Money on the
 * legacy side goes through `legacy_cents`, the documented rounding rule written again here, apart
 * from the importer's code.
 */
import { transaction, type SqliteDatabase } from '../legacy/sqlite.js';
import { connect, type Sql } from '../db/import.repository.js';
import {
  countImported,
  idMap,
  ledgerTotals,
  orderTotals,
  ordersPerCustomer,
  productFigures,
  unitsPerProduct,
} from '../db/verify.repository.js';
import type { SubgraphName } from '../targets.js';
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

function compareMaps(name: string, table: string, legacy: Map<number, number>, stockgraph: Map<number, number>): Check {
  const differences: Difference[] = [];
  for (const key of new Set([...legacy.keys(), ...stockgraph.keys()])) {
    const a = legacy.get(key) ?? 0;
    const b = stockgraph.get(key) ?? 0;
    if (a !== b) differences.push({ table, id: key, legacy: a, stockgraph: b });
  }
  const sum = (m: Map<number, number>) => [...m.values()].reduce((x, y) => x + y, 0);
  return { name, legacy: sum(legacy), stockgraph: sum(stockgraph), ok: differences.length === 0, differences };
}

const scalar = (name: string, legacy: number, stockgraph: number): Check => ({
  name,
  legacy,
  stockgraph,
  ok: legacy === stockgraph,
  differences: legacy === stockgraph ? [] : [{ table: '(total)', id: name, legacy, stockgraph }],
});

export async function verifyImport(
  legacy: SqliteDatabase,
  urls: Record<SubgraphName, string>,
  quarantine: QuarantineEntry[],
): Promise<Verification> {
  legacy.function('legacy_cents', { deterministic: true }, (v: unknown) => legacyCents(v === null ? null : Number(v)));
  legacy.exec(
    'create temp table if not exists quarantined (tbl text not null, id integer not null, primary key (tbl, id)); delete from quarantined;',
  );
  const insert = legacy.prepare('insert or ignore into quarantined (tbl, id) values (?, ?)');
  transaction(legacy, () => {
    for (const q of quarantine) if (q.action === 'not-imported') insert.run(q.table, q.id);
  });
  const kept = (table: string, alias = table) =>
    `not exists (select 1 from temp.quarantined q where q.tbl = '${table}' and q.id = ${alias}.id)`;
  const one = (query: string) => Number(Object.values(legacy.prepare(query).get() as Record<string, number>)[0] ?? 0);

  const connections = new Map<string, Sql>();
  const sqlOf = (name: SubgraphName) => {
    if (!connections.has(urls[name])) connections.set(urls[name], connect(urls[name]));
    return connections.get(urls[name])!;
  };
  try {
    // The Stockgraph side's queries go out first: the server works on them while SQLite, which
    // blocks this thread, computes the legacy side.
    const stockgraph = {
      users: countImported(sqlOf('users'), 'users.users', 'users'),
      products: countImported(sqlOf('inventory'), 'inventory.products', 'products'),
      customers: countImported(sqlOf('customers'), 'customers.customers', 'customers'),
      orders: orderTotals(sqlOf('orders')),
      ledger: ledgerTotals(sqlOf('inventory')),
      productFigures: productFigures(sqlOf('inventory')),
      productIds: idMap(sqlOf('inventory'), 'products'),
      customerIds: idMap(sqlOf('customers'), 'customers'),
      ordersPerCustomer: ordersPerCustomer(sqlOf('orders')),
      unitsPerProduct: unitsPerProduct(sqlOf('orders')),
    };
    // Settled below one by one; a failure must not go unhandled in the meantime.
    for (const pending of Object.values(stockgraph)) (pending as Promise<unknown>).catch(() => {});
    const checks: Check[] = [];
    // Nothing vanished: each legacy row is imported or quarantined, never both, never neither.
    const accounted = (table: string, target: number) => {
      const total = one(`select count(*) from ${table}`);
      const quarantined = one(`select count(*) from temp.quarantined where tbl = '${table}'`);
      checks.push(scalar(`${table}: legacy rows = imported + quarantined`, total, target + quarantined));
      checks.push(scalar(`${table}: rows imported`, one(`select count(*) from ${table} where ${kept(table)}`), target));
    };
    accounted('users', await stockgraph.users);
    accounted('products', await stockgraph.products);
    accounted('customers', await stockgraph.customers);
    const orders = await stockgraph.orders;
    accounted('orders', orders.orders);
    accounted('order_items', orders.items);
    const ledger = await stockgraph.ledger;
    accounted('inventory_log', ledger.count);

    const items = `from order_items i where ${kept('order_items', 'i')} and ${`not exists (select 1 from temp.quarantined q where q.tbl = 'orders' and q.id = i.order_id)`}`;
    checks.push(
      scalar('order items: sum of quantities', one(`select coalesce(sum(quantity), 0) ${items}`), orders.quantity),
    );
    const legacyLineCents = one(`select coalesce(sum(legacy_cents(unit_price) * quantity), 0) ${items}`);
    checks.push(scalar('order items: sum of line totals (cents)', legacyLineCents, orders.lineCents));
    checks.push(scalar('orders: sum of totals (cents) = their items', legacyLineCents, orders.totalCents));
    checks.push(
      scalar(
        'inventory log: sum of changes',
        one(`select coalesce(sum(change), 0) from inventory_log where ${kept('inventory_log')}`),
        ledger.delta,
      ),
    );

    const products = await stockgraph.productFigures;
    const productIds = await stockgraph.productIds;
    const legacyProducts = legacy
      .prepare(`select id, stock, legacy_cents(price) as cents from products where ${kept('products')}`)
      .all() as { id: number; stock: number; cents: number }[];
    checks.push(
      scalar(
        'products: sum of prices (cents)',
        legacyProducts.reduce((a, p) => a + p.cents, 0),
        products.reduce((a, p) => a + Number(p.price_cents), 0),
      ),
    );
    checks.push(
      compareMaps(
        'products: stock on hand per product',
        'products',
        new Map(legacyProducts.map((p) => [p.id, p.stock])),
        new Map(products.map((p) => [productIds.get(p.id)!, p.on_hand])),
      ),
    );
    checks.push(
      compareMaps(
        'products: stock on hand = sum of the ledger',
        'products',
        new Map(products.map((p) => [productIds.get(p.id)!, p.on_hand])),
        new Map(products.map((p) => [productIds.get(p.id)!, Number(p.ledger)])),
      ),
    );
    const customerIds = await stockgraph.customerIds;
    const legacyPerCustomer = legacy
      .prepare(`select customer_id as id, count(*) as n from orders where ${kept('orders')} group by customer_id`)
      .all() as { id: number; n: number }[];
    checks.push(
      compareMaps(
        'orders per customer',
        'customers',
        new Map(legacyPerCustomer.map((r) => [r.id, r.n])),
        new Map((await stockgraph.ordersPerCustomer).map((r) => [customerIds.get(r.customer_id) ?? -1, Number(r.n)])),
      ),
    );
    const legacyUnits = legacy
      .prepare(`select product_id as id, sum(quantity) as n ${items} group by product_id`)
      .all() as { id: number; n: number }[];
    checks.push(
      compareMaps(
        'units ordered per product',
        'products',
        new Map(legacyUnits.map((r) => [r.id, r.n])),
        new Map((await stockgraph.unitsPerProduct).map((r) => [productIds.get(r.product_id) ?? -1, Number(r.n)])),
      ),
    );
    return { ok: checks.every((c) => c.ok), checks };
  } finally {
    await Promise.all([...connections.values()].map((sql) => sql.end({ timeout: 5 })));
  }
}
