/**
 * The legacy import's decisions on a hand-written legacy file, without a database: what each dirty row
 * becomes (imported, merged, kept against a placeholder, or quarantined) and the money of merged lines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { weightedUnitCents } from '../cli/src/import/mapping.js';
import { Planner, type Row } from '../cli/src/import/plan.js';
import { LEGACY_SCHEMA_SQL } from '../cli/src/legacy/generator.js';
import { openSqlite, type SqliteDatabase } from '../cli/src/legacy/sqlite.js';

let dir: string;
let legacy: SqliteDatabase;

const AT = '2025-03-10 10:00:00';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sg-import-plan-'));
  legacy = openSqlite(join(dir, 'legacy.db'));
  legacy.exec(LEGACY_SCHEMA_SQL);
  legacy.exec(`
    insert into customers (id, name, created_at) values (1, 'Ann', '${AT}'), (2, 'Bob', '2023-02-30 10:00:00');
    insert into products (id, sku, name, price, stock, created_at) values
      (1, 'SKU-1', 'Hammer', 19.9, 10, '${AT}'),
      (2, ' sku-1 ', 'Hammer (typed again)', 21.5, 4, '${AT}'),
      (3, 'SKU-3', 'Saw', 5.0, -2, '${AT}'),
      (4, 'SKU-4', 'Drill', 30.0, 7, '${AT}');
    insert into orders (id, customer_id, status, total, created_at) values
      (10, 1, 'completed', 0, '${AT}'),
      (11, 1, 'paid', 0, '${AT}'),
      (12, 2, 'paid', 0, '${AT}'),
      (13, 1, 'paid', 0, '${AT}');
    insert into order_items (id, order_id, product_id, quantity, unit_price) values
      (100, 10, 1, 2, 19.9),
      (101, 10, 1, 5, 2.675),
      (102, 10, 2, 1, 21.5),
      (103, 10, 4, 0, 30.0),
      (104, 11, 99, 3, 1.005),
      (105, 11, 99, 1, 1.005),
      (106, 11, 3, 2, 5.0),
      (107, 12, 98, 1, 9.0),
      (108, 13, 4, 2, -1);
    insert into inventory_log (id, product_id, change, reason, created_at) values
      (1, 1, 10, 'purchase', '${AT}'),
      (2, 2, 4, 'purchase', '${AT}'),
      (3, 99, 5, 'purchase', '${AT}'),
      (4, 4, 7, 'purchase', '${AT}');
  `);
});

afterAll(() => {
  legacy.close();
  rmSync(dir, { recursive: true, force: true });
});

function plan() {
  const planner = new Planner(legacy, 'Asia/Shanghai', new Uint8Array([1, 2, 3]));
  planner.planUsers();
  planner.planCustomers();
  const catalog = planner.planProducts();
  const orders = planner.planOrders(1, 100);
  const ledger = planner.planLedger(1, 100);
  const reconciliation = planner.planReconciliation();
  const entry = (table: string, id: number) => planner.quarantine.filter((q) => q.table === table && q.id === id);
  return { planner, catalog, orders, ledger, reconciliation, entry };
}

const lineOf = (items: Row[], product: string) => items.filter((i) => i.product_id === product);

describe('legacy import plan', () => {
  it('merges a duplicate SKU into the first product: stock, lines and log rows follow it, reported as merged', () => {
    const { planner, catalog, orders, ledger, reconciliation, entry } = plan();
    const hammer = planner.products.get(1)!.id;
    expect(planner.products.get(2)).toEqual({ id: hammer, survivor: 1 });
    expect(catalog.products.filter((p) => String(p.sku).toLowerCase() === 'sku-1')).toEqual([
      expect.objectContaining({ id: hammer, sku: 'SKU-1', on_hand: 14, unit_price: '19.90' }),
    ]);
    expect(entry('products', 2)).toEqual([
      expect.objectContaining({ action: 'merged', reason: expect.stringMatching(/^same SKU as legacy product #1 /) }),
    ]);
    expect(ledger.movements.filter((m) => m.product_id === hammer).map((m) => m.legacy_id)).toEqual([1, 2]);
    expect(reconciliation).toEqual([]);
    expect(lineOf(orders.items, hammer)).toHaveLength(1);
  });

  it('merges repeated lines for one product into one line: summed quantity, exact cents, weighted unit price', () => {
    const { planner, orders, entry } = plan();
    const hammer = planner.products.get(1)!.id;
    // 2 × 19.90 + 5 × 2.68 (2.675 half-up) + 1 × 21.50 (the duplicate SKU's line) = 74.70 for 8 units:
    // 9.3375 → 9.34 a unit, while the line total stays the exact sum.
    expect(lineOf(orders.items, hammer)).toEqual([
      expect.objectContaining({ quantity: 8, line_total: '74.70', unit_price: '9.34' }),
    ]);
    expect(orders.orders.find((o) => o.legacy_id === 10)).toMatchObject({ total: '74.70' });
    for (const id of [101, 102])
      expect(entry('order_items', id)).toEqual([
        { table: 'order_items', id, action: 'merged', reason: 'merged into the line for product #1 of order #10' },
      ]);
    expect(entry('order_items', 100)).toEqual([]);
  });

  it('keeps the sales of deleted and quarantined products against placeholders that hold no stock', () => {
    const { planner, catalog, orders, ledger, entry } = plan();
    const deleted = planner.placeholders.get(99)!;
    const quarantined = planner.placeholders.get(3)!;
    expect(catalog.products.find((p) => p.id === deleted.id)).toMatchObject({
      sku: 'LEGACY-99',
      name: 'Legacy product #99 (deleted)',
      category: 'Archived (legacy import)',
      unit_price: '1.01',
      on_hand: 0,
      reorder_level: 0,
    });
    expect(catalog.products.find((p) => p.id === quarantined.id)).toMatchObject({
      sku: 'LEGACY-3',
      name: 'Legacy product #3 (quarantined)',
    });
    expect(lineOf(orders.items, deleted.id)).toEqual([
      expect.objectContaining({ quantity: 4, line_total: '4.04', unit_price: '1.01' }),
    ]);
    expect(lineOf(orders.items, quarantined.id)).toEqual([expect.objectContaining({ quantity: 2 })]);
    expect(entry('order_items', 104)).toEqual([
      expect.objectContaining({ action: 'kept-on-placeholder', reason: expect.stringMatching(/LEGACY-99$/) }),
    ]);
    expect(entry('inventory_log', 3)).toEqual([
      expect.objectContaining({ action: 'not-imported', reason: expect.stringMatching(/no stock is left/) }),
    ]);
    expect(ledger.movements.some((m) => m.legacy_id === 3)).toBe(false);
    // Product 98's only line is in an order whose customer is quarantined: no placeholder for it.
    expect(planner.placeholders.has(98)).toBe(false);
  });

  it('quarantines what cannot be placed: quantity 0, a negative price, an order without a valid customer', () => {
    const { orders, entry } = plan();
    expect(entry('order_items', 103)).toEqual([
      expect.objectContaining({ action: 'not-imported', reason: 'quantity 0 (must be above 0)' }),
    ]);
    expect(entry('order_items', 108)).toEqual([
      expect.objectContaining({ action: 'not-imported', reason: 'negative or invalid unit price -1' }),
    ]);
    expect(entry('orders', 13)).toEqual([expect.objectContaining({ action: 'not-imported' })]);
    expect(entry('orders', 12)).toEqual([
      expect.objectContaining({ action: 'not-imported', reason: 'customer #2 is quarantined' }),
    ]);
    expect(orders.orders.map((o) => o.legacy_id)).toEqual([10, 11]);
  });

  it('decides the same on every run (a resumed import writes the same ids)', () => {
    const first = plan();
    const second = plan();
    expect(second.catalog).toEqual(first.catalog);
    expect(second.orders).toEqual(first.orders);
    expect(second.planner.quarantine).toEqual(first.planner.quarantine);
  });

  it('rounds the weighted unit price half-up to the cent', () => {
    expect(weightedUnitCents(7470, 8)).toBe(934);
    expect(weightedUnitCents(5, 2)).toBe(3);
    expect(weightedUnitCents(10, 4)).toBe(3);
    expect(weightedUnitCents(9, 4)).toBe(2);
    expect(weightedUnitCents(1990 * 3, 3)).toBe(1990);
  });
});
