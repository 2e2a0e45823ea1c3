/**
 * The legacy side of the import's verification (import/verify.ts): every figure computed from the
 * legacy file with SQLite's own SQL, over the rows not quarantined. It runs in a worker thread on its
 * own connection to the snapshot (legacy-figures.worker.ts): SQLite blocks the thread it runs on, and
 * on the main thread it kept PostgreSQL's answers unread and the server idle for 20 s at a million
 * orders while the Stockgraph side waited.
 */
import { LEGACY_TABLES, type LegacyTable } from '../legacy/reader.js';
import { openSqlite, transaction, type SqliteDatabase } from '../legacy/sqlite.js';
import { firstMessage, startWorker } from './worker.js';

export type Key = number | string;
export type Figures = Map<Key, number>;

/** What the legacy side needs: the snapshot, the planner's decisions, and Stockgraph's product ids. */
export interface LegacyInput {
  /** The snapshot's file (the planner's own connection keeps it open). */
  file: string;
  /** Rows not imported, as [legacy table, id]. */
  notImported: [string, number][];
  /** Rows imported into another row (a duplicate SKU, a repeated line), as [legacy table, id]. */
  merged: [string, number][];
  /** Each legacy product id and the Stockgraph product it went to (imported, merged or a placeholder). */
  productIds: [number, string][];
}

export interface LegacyFigures {
  rows: Record<LegacyTable, { total: number; quarantined: number; imported: number; merged: number }>;
  quantity: number;
  lineCents: number;
  logDelta: number;
  priceCents: number;
  stock: Figures;
  ordersPerCustomer: Figures;
  units: Figures;
  /** Per imported order: its legacy id, the cents and units of its kept lines (columns, to pass cheaply). */
  perOrder: { ids: Float64Array<ArrayBuffer>; cents: Float64Array<ArrayBuffer>; units: Float64Array<ArrayBuffer> };
  perMonth: { month: string; orders: number; customers: number }[];
  revenuePerMonth: Figures;
  unitsPerMonth: Figures;
  logPerMonth: Figures;
}

/** Half-up to cents from the shortest decimal text of the float, by string arithmetic. */
export function legacyCents(value: number | null): number | null {
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

export const keyed = <R>(rows: readonly R[], key: (r: R) => Key, value: (r: R) => number | string): Figures =>
  new Map<Key, number>(rows.map((r) => [key(r), Number(value(r))]));

const columns = (rows: { id: number; cents: number; units: number }[]) => ({
  ids: Float64Array.from(rows, (r) => r.id),
  cents: Float64Array.from(rows, (r) => r.cents),
  units: Float64Array.from(rows, (r) => r.units),
});

/** The shop-local month of a legacy timestamp, as written: 'YYYY-MM-DD …' and 'YYYY/MM/DD …'. */
const legacyMonth = (column: string) => `replace(substr(${column}, 1, 7), '/', '-')`;

/**
 * The legacy side, in SQLite over the rows not quarantined. Products are keyed by the Stockgraph
 * product each legacy id went to (`temp.product_map`, filled from the id map), or `#<legacy id>` for
 * one that went nowhere.
 */
function figuresOf(legacy: SqliteDatabase): LegacyFigures {
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
    perOrder: columns(
      all<{ id: number; cents: number; units: number }>(
        'select order_id as id, sum(cents) as cents, sum(quantity) as units from temp.kept_lines group by order_id',
      ),
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

/** Opens the snapshot, computes the legacy side, closes it. Runs in the worker. */
export function computeLegacyFigures(input: LegacyInput): LegacyFigures {
  const legacy = openSqlite(input.file);
  try {
    // Called once per order line: a few thousand distinct prices, each converted once.
    const cents = new Map<number, number | null>();
    legacy.function('legacy_cents', { deterministic: true }, (v: unknown) => {
      if (v === null) return null;
      const value = Number(v);
      let known = cents.get(value);
      if (known === undefined) cents.set(value, (known = legacyCents(value)));
      return known;
    });
    legacy.exec(`
      create temp table quarantined (tbl text not null, id integer not null, primary key (tbl, id));
      create temp table merged (tbl text not null, id integer not null, primary key (tbl, id));
      create temp table product_map (legacy_id integer primary key, new_id text not null);`);
    const fill = (table: string, rows: [unknown, unknown][]) => {
      const insert = legacy.prepare(`insert or ignore into ${table} values (?, ?)`);
      transaction(legacy, () => {
        for (const [a, b] of rows) insert.run(a as string, b as string);
      });
    };
    fill('quarantined', input.notImported);
    fill('merged', input.merged);
    fill('product_map', input.productIds);
    return figuresOf(legacy);
  } finally {
    legacy.close();
  }
}

/** The legacy side, computed in a worker thread while this one reads PostgreSQL's answers. */
export function legacyFigures(input: LegacyInput): Promise<LegacyFigures> {
  return firstMessage(
    startWorker(new URL('./legacy-figures.worker.ts', import.meta.url), input),
    'the legacy side of the verification',
  );
}
