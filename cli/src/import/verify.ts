/**
 * Proves the import: every figure is computed twice, from the legacy file with SQLite's own SQL
 * (over the rows not quarantined) and from Stockgraph's tables, and the two must agree, overall, per
 * order and per month. Money on the legacy side goes through `legacy_cents`, the documented rounding
 * rule written again (import/legacy-figures.ts), apart from the importer's code. Rows merged into
 * another (a duplicate SKU, a repeated line) count as imported: figures per product are keyed by the
 * Stockgraph product, reached from each legacy product id through the id map, so a merged product's
 * units and stock are compared with its survivor's. A month is the month of the order's (or log row's) created_at in the
 * shop's time zone, the import's --time-zone: the legacy text as written, Stockgraph's instant
 * converted back to that zone.
 */
import { connect, type Sql } from '../db/import.repository.js';
import {
  countImported,
  idMap,
  importedItemsPerMonth,
  importedLogPerMonth,
  importedOrders,
  importedProductFigures,
  productIdMap,
} from '../db/verify.repository.js';
import type { LegacyTable } from '../legacy/reader.js';
import type { SqliteDatabase } from '../legacy/sqlite.js';
import type { SubgraphName } from '../targets.js';
import { keyed, legacyFigures, type Figures, type Key } from './legacy-figures.js';
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

/** Compares two keyed figures; a key missing on one side counts 0 there. `label` names the row. */
function compareMaps(
  name: string,
  table: string,
  legacy: Map<Key, number>,
  stockgraph: Map<Key, number>,
  label: (key: Key) => Key = (key) => key,
): Check {
  const differences: Difference[] = [];
  // Each side walked once (a million orders are a million keys on each side): a key of the legacy
  // side is compared there, a key only Stockgraph has is compared with 0.
  let legacySum = 0;
  for (const [key, a] of legacy) {
    legacySum += a;
    const b = stockgraph.get(key) ?? 0;
    if (a !== b) differences.push({ table, id: label(key), legacy: a, stockgraph: b });
  }
  let stockgraphSum = 0;
  for (const [key, b] of stockgraph) {
    stockgraphSum += b;
    if (!legacy.has(key) && b !== 0) differences.push({ table, id: label(key), legacy: 0, stockgraph: b });
  }
  return { name, legacy: legacySum, stockgraph: stockgraphSum, ok: differences.length === 0, differences };
}

const scalar = (name: string, legacy: number, stockgraph: number): Check => ({
  name,
  legacy,
  stockgraph,
  ok: legacy === stockgraph,
  differences: legacy === stockgraph ? [] : [{ table: '(total)', id: name, legacy, stockgraph }],
});

/** Adds `n` to the figure under `key`. */
const add = (figures: Figures, key: Key, n: number) => figures.set(key, (figures.get(key) ?? 0) + n);

export async function verifyImport(
  legacy: SqliteDatabase,
  urls: Record<SubgraphName, string>,
  quarantine: QuarantineEntry[],
  timeZone: string,
): Promise<Verification> {
  const connections = new Map<string, Sql>();
  const sqlOf = (name: SubgraphName) => {
    if (!connections.has(urls[name])) connections.set(urls[name], connect(urls[name], { analytic: true }));
    return connections.get(urls[name])!;
  };
  try {
    // The Stockgraph side's queries go out first and the server works on them while a worker thread
    // computes the legacy side; the largest go first.
    const stockgraph = {
      productIds: productIdMap(sqlOf('inventory'), PLACEHOLDER_ID_MAP),
      orders: importedOrders(sqlOf('orders'), timeZone),
      items: importedItemsPerMonth(sqlOf('orders'), timeZone),
      log: importedLogPerMonth(sqlOf('inventory'), timeZone),
      productFigures: importedProductFigures(sqlOf('inventory'), PLACEHOLDER_ID_MAP),
      customerIds: idMap(sqlOf('customers'), 'customers'),
      users: countImported(sqlOf('users'), 'users.users', 'users'),
      // One per legacy product that landed in a Stockgraph product: a survivor once for itself and
      // once for each product merged into it.
      products: countImported(sqlOf('inventory'), 'inventory.products', 'products'),
      customers: countImported(sqlOf('customers'), 'customers.customers', 'customers'),
    };
    // Settled below one by one; a failure must not go unhandled in the meantime.
    for (const pending of Object.values(stockgraph)) (pending as Promise<unknown>).catch(() => {});

    // The legacy side needs one thing of Stockgraph's: which product each legacy product id became.
    const productIds = await stockgraph.productIds;
    const legacySidePending = legacyFigures({
      file: legacy.location()!,
      notImported: quarantine.filter((q) => q.action === 'not-imported').map((q) => [q.table, q.id]),
      merged: quarantine.filter((q) => q.action === 'merged').map((q) => [q.table, q.id]),
      productIds: productIds.map((r) => [Number(r.legacy_id), r.new_id]),
    });
    legacySidePending.catch(() => {});
    const legacyIdsOf = new Map<string, { ids: number[]; placeholder: boolean }>();
    for (const r of productIds) {
      const entry = legacyIdsOf.get(r.new_id) ?? { ids: [], placeholder: r.legacy_table === PLACEHOLDER_ID_MAP };
      entry.ids.push(Number(r.legacy_id));
      legacyIdsOf.set(r.new_id, entry);
    }
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

    // Stockgraph's figures, summed from the rows per order, per month and product.
    const orders = { count: 0, totalCents: 0, lines: 0 };
    const perCustomer: Figures = new Map();
    const perMonth = new Map<string, { orders: number; cents: number; customers: Set<string> }>();
    const orderCents: Figures = new Map();
    const orderLineCents: Figures = new Map();
    const orderUnits: Figures = new Map();
    for (const r of await stockgraph.orders) {
      const id = Number(r.legacy_id);
      const total = Number(r.total_cents);
      orders.count++;
      orders.totalCents += total;
      orders.lines += Number(r.lines);
      orderCents.set(id, total);
      orderLineCents.set(id, Number(r.line_cents));
      orderUnits.set(id, Number(r.units));
      add(perCustomer, r.customer_id, 1);
      const month = perMonth.get(r.month) ?? { orders: 0, cents: 0, customers: new Set<string>() };
      month.orders++;
      month.cents += total;
      month.customers.add(r.customer_id);
      perMonth.set(r.month, month);
    }
    const items = { quantity: 0, cents: 0 };
    const units: Figures = new Map();
    const unitsPerMonth: Figures = new Map();
    for (const r of await stockgraph.items) {
      items.quantity += Number(r.units);
      items.cents += Number(r.cents);
      add(units, r.product_id, Number(r.units));
      unitsPerMonth.set(`${r.month} ${r.product_id}`, Number(r.units));
    }
    const ledger = { count: 0, delta: 0 };
    const logPerMonth: Figures = new Map();
    for (const r of await stockgraph.log) {
      ledger.count += Number(r.n);
      ledger.delta += Number(r.delta);
      logPerMonth.set(`${r.month} ${r.product_id}`, Number(r.delta));
    }
    const customerIds = await stockgraph.customerIds;
    const ordersPerCustomer: Figures = new Map();
    for (const [customer, n] of perCustomer) add(ordersPerCustomer, customerIds.get(String(customer)) ?? -1, n);

    const legacySide = await legacySidePending;
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
    accounted('orders', orders.count);
    accounted('order_items', orders.lines + legacySide.rows.order_items.merged);
    accounted('inventory_log', ledger.count);

    checks.push(scalar('order items: sum of quantities', legacySide.quantity, items.quantity));
    checks.push(scalar('order items: sum of line totals (cents)', legacySide.lineCents, items.cents));
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
    checks.push(compareMaps('orders per customer', 'customers', legacySide.ordersPerCustomer, ordersPerCustomer));
    checks.push(compareMaps('units ordered per product', 'products', legacySide.units, units, productLabel));

    // Each order: its total and its lines' totals to the cent, its units (a difference names the order).
    const { ids, cents, units: legacyUnits } = legacySide.perOrder;
    const legacyOrderCents: Figures = new Map();
    const legacyOrderUnits: Figures = new Map();
    for (let i = 0; i < ids.length; i++) {
      legacyOrderCents.set(ids[i]!, cents[i]!);
      legacyOrderUnits.set(ids[i]!, legacyUnits[i]!);
    }
    checks.push(
      compareMaps('orders: total per order (cents) = its legacy lines', 'orders', legacyOrderCents, orderCents),
    );
    checks.push(compareMaps('orders: line totals per order (cents)', 'orders', legacyOrderCents, orderLineCents));
    checks.push(compareMaps('orders: units per order', 'orders', legacyOrderUnits, orderUnits));

    // Per month of the shop's time zone.
    const month = (r: { month: string }) => r.month;
    const months = [...perMonth].map(([m, figures]) => ({ month: m, ...figures }));
    checks.push(
      compareMaps(
        'per month: orders',
        'orders',
        keyed(legacySide.perMonth, month, (r) => r.orders),
        keyed(months, month, (r) => r.orders),
      ),
    );
    checks.push(
      compareMaps(
        'per month: revenue (cents)',
        'orders',
        legacySide.revenuePerMonth,
        keyed(months, month, (r) => r.cents),
      ),
    );
    checks.push(
      compareMaps(
        'per month: customers with orders',
        'customers',
        keyed(legacySide.perMonth, month, (r) => r.customers),
        keyed(months, month, (r) => r.customers.size),
      ),
    );
    checks.push(
      compareMaps(
        'per month: units per product',
        'products',
        legacySide.unitsPerMonth,
        unitsPerMonth,
        monthProductLabel,
      ),
    );
    checks.push(
      compareMaps(
        'per month: stock changes per product (log)',
        'products',
        legacySide.logPerMonth,
        logPerMonth,
        monthProductLabel,
      ),
    );
    return { ok: checks.every((c) => c.ok), checks };
  } finally {
    await Promise.all([...connections.values()].map((sql) => sql.end({ timeout: 5 })));
  }
}
