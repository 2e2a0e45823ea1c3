import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createTestDatabase, type TestDatabase } from '@stockgraph/testkit';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPORT_TABLES, query, stockgraph } from './cli-support.js';

/**
 * A live cutover: the legacy application keeps taking and changing orders after the first import, and
 * `import sqlite --sync` brings Stockgraph up to date with its file. The proof: after a sync the
 * targets hold exactly what a fresh import of today's file makes (ids aside: every import salts its
 * ids with its first file), and the verification agrees.
 */
const TABLES = IMPORT_TABLES;

let dir: string;
let file: string;
let synced: TestDatabase;
let fresh: TestDatabase;

/** Each table's rows with the import's salt taken out of every id (mapping.ts legacyUuid: bytes 7–9). */
async function contents(url: string): Promise<Record<string, string>> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const result: Record<string, string> = {};
    for (const table of TABLES) {
      const [row] = await sql.unsafe<{ d: string | null; n: string }[]>(
        `select md5(string_agg(r, '|' order by r)) as d, count(*)::text as n from (
           select regexp_replace(t::text, '([0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f])[0-9a-f]{2}-[0-9a-f]{4}-', '\\1xx-xxxx-', 'g') as r
           from ${table} t) s`,
      );
      result[table] = `${row!.n}:${row!.d}`;
    }
    return result;
  } finally {
    await sql.end();
  }
}

/** What the legacy application does between two syncs, written straight into its file. */
function legacyApplicationWorks(path: string) {
  const db = new DatabaseSync(path);
  db.exec(`
    -- 30 paid orders refunded
    update orders set status = 'refunded', updated_at = '2026-12-01 10:00:00'
      where id in (select id from orders where trim(lower(status)) = 'paid' order by id limit 30);
    -- a line's quantity corrected without touching the order's updated_at
    update order_items set quantity = quantity + 1
      where id = (select min(i.id) from order_items i join orders o on o.id = i.order_id where i.quantity > 0 and o.id > 100);
    -- a new customer buys twice the same product on one order (two lines), logged, stock written
    insert into customers (name, phone, email, address, created_at)
      values ('Cutover Customer', '138 0013 8000', 'cutover@example.com', 'Line 1', '2026-12-01 09:00:00');
    insert into orders (customer_id, status, total, created_by, created_at, updated_at)
      values ((select max(id) from customers), 'paid', 0, null, '2026-12-01 09:30:00', null);
    insert into order_items (order_id, product_id, quantity, unit_price) values
      ((select max(id) from orders), (select min(id) from products where stock > 10), 2, 9.9),
      ((select max(id) from orders), (select min(id) from products where stock > 10), 1, 10.1);
    update orders set total = 29.9 where id = (select max(id) from orders);
    insert into inventory_log (product_id, change, reason, ref_order_id, note, created_at)
      values ((select min(id) from products where stock > 10), -3, 'sale', (select max(id) from orders), null, '2026-12-01 09:30:00');
    update products set stock = stock - 3, updated_at = '2026-12-01 09:30:00'
      where id = (select min(id) from products where stock > 10);
    -- a price change, a phone corrected, a receipt
    update products set price = price + 1.25, updated_at = '2026-12-01 08:00:00'
      where id = (select max(id) from products where price > 0 and stock >= 0);
    update customers set phone = '+86 139 1234 5678' where id = (select min(id) from customers where id > 10);
    insert into inventory_log (product_id, change, reason, ref_order_id, note, created_at)
      values ((select max(id) from products where stock >= 0), 40, 'purchase', null, 'late delivery', '2026-12-02 08:00:00');
    update products set stock = stock + 40 where id = (select max(id) from products where stock >= 0);
    -- an order deleted with its lines
    delete from order_items where order_id = (select min(id) from orders where trim(lower(status)) = 'completed');
    delete from orders where id = (select min(id) from orders where trim(lower(status)) = 'completed');
    -- an order the import quarantined (a status nobody knew) fixed by hand
    update orders set status = 'paid' where trim(lower(status)) = 'on_hold';
  `);
  db.close();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sg-cli-sync-'));
  file = join(dir, 'legacy.db');
  const [made, dbs] = await Promise.all([
    stockgraph(['import', 'make-legacy', file, '--orders', '1500', '--seed', '5', '--dirty']),
    Promise.all([createTestDatabase('cli_sync'), createTestDatabase('cli_sync_fresh')]).then(async (created) => {
      const migrated = await Promise.all(created.map((db) => stockgraph(['db', 'migrate'], { DATABASE_URL: db.url })));
      for (const m of migrated) expect(m.code, m.stderr).toBe(0);
      return created;
    }),
  ]);
  expect(made.code, made.stderr).toBe(0);
  [synced, fresh] = dbs;
  const first = await stockgraph(['import', 'sqlite', file, '--report', join(dir, 'first')], {
    DATABASE_URL: synced.url,
  });
  expect(first.code, first.stderr + first.stdout).toBe(0);
}, 400_000);

afterAll(async () => {
  await Promise.all([synced?.drop(), fresh?.drop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('stockgraph import sqlite --sync', () => {
  it('brings a finished import up to date with what the legacy application changed since', async () => {
    const hadOnHold = (
      new DatabaseSync(file, { readOnly: true })
        .prepare("select count(*) as n from orders where trim(lower(status)) = 'on_hold'")
        .get() as {
        n: number;
      }
    ).n;
    legacyApplicationWorks(file);
    // Without --sync the changed file is refused, and the message says what to do.
    const plain = await stockgraph(['import', 'sqlite', file, '--report', join(dir, 'plain')], {
      DATABASE_URL: synced.url,
    });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/holds a finished import of .*content differs.*add --sync/);

    const sync = await stockgraph(['--json', 'import', 'sqlite', file, '--sync', '--report', join(dir, 'sync')], {
      DATABASE_URL: synced.url,
    });
    expect(sync.code, sync.stderr + sync.stdout).toBe(0);
    const report = JSON.parse(sync.stdout) as { ok: boolean; command: string; written: Record<string, number> };
    expect(report).toMatchObject({ ok: true, command: 'import sync' });
    // Only what changed is written: a few dozen orders of 1,500, one new customer and one changed.
    expect(report.written['orders.orders']).toBeGreaterThanOrEqual(30);
    expect(report.written['orders.orders']).toBeLessThan(60 + hadOnHold);
    expect(report.written['customers.customers']).toBe(2);
    expect(report.written['orders.orders (removed)']).toBeGreaterThan(0);

    // Exactly what a fresh import of today's file makes of it.
    const importedFresh = await stockgraph(['import', 'sqlite', file, '--report', join(dir, 'fresh')], {
      DATABASE_URL: fresh.url,
    });
    expect(importedFresh.code, importedFresh.stderr).toBe(0);
    expect(await contents(synced.url)).toEqual(await contents(fresh.url));

    // The new order is there with both lines as one, to the cent.
    const [order] = await query<{ total: string; quantity: number; customer: string }>(
      synced.url,
      `select o.total::text, i.quantity, o.customer_id::text as customer from orders.orders o
       join orders.order_items i on i.order_id = o.id and i.created_at = o.created_at
       where o.created_at = '2026-12-01 01:30:00+00'`,
    );
    expect(order).toMatchObject({ total: '29.90', quantity: 3 });

    // Again with nothing changed: nothing written, and verify agrees with the file as synced.
    const again = await stockgraph(['--json', 'import', 'sqlite', file, '--sync', '--report', join(dir, 'again')], {
      DATABASE_URL: synced.url,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, written: {} });
    const verify = await stockgraph(['import', 'verify', file, '--report', join(dir, 'verify')], {
      DATABASE_URL: synced.url,
    });
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
    // The counters and rollups kept by the services' triggers agree with the rows the sync wrote.
    const aggregates = await stockgraph(['aggregates', 'check'], { DATABASE_URL: synced.url });
    expect(aggregates.code, aggregates.stderr + aggregates.stdout).toBe(0);
  }, 400_000);

  it('refuses to sync from another store, and changes nothing', async () => {
    const other = join(dir, 'other.db');
    expect((await stockgraph(['import', 'make-legacy', other, '--orders', '1500', '--seed', '77'])).code).toBe(0);
    const before = await contents(synced.url);
    const result = await stockgraph(['import', 'sqlite', other, '--sync', '--report', join(dir, 'other')], {
      DATABASE_URL: synced.url,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is not the store that was imported/);
    expect(await contents(synced.url)).toEqual(before);
  }, 400_000);

  it('refuses --sync on services that hold no finished import', async () => {
    const empty = await createTestDatabase('cli_sync_empty');
    try {
      expect((await stockgraph(['db', 'migrate'], { DATABASE_URL: empty.url })).code).toBe(0);
      const copy = join(dir, 'copy.db');
      copyFileSync(file, copy);
      const result = await stockgraph(['import', 'sqlite', copy, '--sync'], { DATABASE_URL: empty.url });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/was never imported into: run `stockgraph import sqlite .*` first/);
    } finally {
      await empty.drop();
    }
  }, 120_000);
});
