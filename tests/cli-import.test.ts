import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { idTime } from '@stockgraph/ids';
import { createTestDatabase, type TestDatabase } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuarantineEntry } from '../cli/src/import/plan.js';
import { IMPORT_TABLES, query, spawnStockgraph, stockgraph, tableDigests } from './cli-support.js';

const TABLES = IMPORT_TABLES;

let dir: string;
let file: string;
let whole: TestDatabase;
let resumed: TestDatabase;
/** Every index of the four services' schemas of a freshly migrated database. */
let migratedIndexes: string;

/** Cents as the old UI showed them, computed here apart from the importer: half-up from the float's text. */
const cents = (price: number) => Math.round(Number((price * 100).toPrecision(12)));
const decimal = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;

/** The legacy file, the legacy ids of the orders imported into `whole`, and the quarantine report. */
async function importedState() {
  const imported = (
    await query<{ id: number }>(
      whole.url,
      "select legacy_id::int as id from legacy_import.id_map where legacy_table = 'orders'",
    )
  ).map((r) => r.id);
  const { quarantine } = JSON.parse(readFileSync(join(dir, 'report', 'quarantine.json'), 'utf8')) as {
    quarantine: QuarantineEntry[];
  };
  return { legacy: new DatabaseSync(file, { readOnly: true }), imported, quarantine };
}

const indexes = (url: string) =>
  query<{ i: string }>(
    url,
    `select string_agg(tablename || ':' || indexname, ',' order by tablename, indexname) as i from pg_indexes
     where schemaname in ('users', 'inventory', 'orders', 'customers')`,
  );

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sg-cli-import-'));
  file = join(dir, 'legacy.db');
  // The file and the two databases are made at once: each is its own process or server work.
  const [made, dbs] = await Promise.all([
    stockgraph(['--json', 'import', 'make-legacy', file, '--orders', '1500', '--seed', '3', '--dirty']),
    Promise.all([createTestDatabase('cli_import'), createTestDatabase('cli_resume')]).then(async (created) => {
      const migrated = await Promise.all(created.map((db) => stockgraph(['db', 'migrate'], { DATABASE_URL: db.url })));
      for (const m of migrated) expect(m.code, m.stderr).toBe(0);
      return created;
    }),
  ]);
  expect(made.code, made.stderr).toBe(0);
  [whole, resumed] = dbs;
  migratedIndexes = (await indexes(whole.url))[0]!.i;
});

afterAll(async () => {
  await Promise.all([whole?.drop(), resumed?.drop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('stockgraph import sqlite', () => {
  it('imports a dirty legacy file, quarantines each dirty row with its reason, and verifies both sides agree', async () => {
    const report = join(dir, 'report');
    const result = await stockgraph(['import', 'sqlite', file, '--time-zone', 'Asia/Shanghai', '--report', report], {
      DATABASE_URL: whole.url,
    });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const verification = JSON.parse(readFileSync(join(report, 'verification.json'), 'utf8'));
    expect(verification.ok).toBe(true);
    expect(verification.verification.checks.length).toBeGreaterThan(15);
    expect(readFileSync(join(report, 'verification.md'), 'utf8')).toMatch(/verification: PASSED/);

    const { quarantine } = JSON.parse(readFileSync(join(report, 'quarantine.json'), 'utf8')) as {
      quarantine: QuarantineEntry[];
    };
    const reasons = quarantine.map((q) => `${q.table}: ${q.action}: ${q.reason}`).join('\n');
    for (const expected of [
      /orders: not-imported: customer #\d+ does not exist \(deleted\)/,
      /order_items: not-imported: order #\d+ does not exist \(deleted\)/,
      /order_items: kept-on-placeholder: product #\d+ does not exist \(deleted\): kept against placeholder product LEGACY-\d+/,
      /order_items: kept-on-placeholder: product #\d+ is quarantined: kept against placeholder product LEGACY-\d+/,
      /order_items: merged: merged into the line for product #\d+ of order #\d+/,
      /products: merged: same SKU as legacy product #\d+/,
      /products: not-imported: negative stock/,
      /customers: field-kept-in-notes: malformed phone/,
      /not-imported: impossible created_at/,
      /orders: not-imported: unknown status "on_hold"/,
      /orders: not-imported: no items/,
      /order_items: not-imported: quantity -?\d/,
      /inventory_log: not-imported: product #\d+ does not exist \(deleted\): no stock is left/,
      /users: not-imported: no usable email/,
    ]) {
      expect(reasons).toMatch(expected);
    }
    expect(readFileSync(join(report, 'quarantine.md'), 'utf8')).toMatch(/\| products \| \d+ \| merged \| same SKU as/);
    expect(verification.quarantine).toMatchObject({
      merged: quarantine.filter((q) => q.action === 'merged').length,
      keptOnPlaceholder: quarantine.filter((q) => q.action === 'kept-on-placeholder').length,
    });
    expect(verification.quarantine.merged).toBeGreaterThan(0);
    // Checks per order and per month of the shop's time zone, as well as overall.
    expect(verification.verification.checks.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining([
        'orders: total per order (cents) = its legacy lines',
        'per month: orders',
        'per month: revenue (cents)',
        'per month: units per product',
        'per month: customers with orders',
        'units ordered per product',
        'products: stock on hand per product',
      ]),
    );

    // Every legacy row is in Stockgraph or in quarantine; the file's own counts, read here directly.
    const legacy = new DatabaseSync(file, { readOnly: true });
    try {
      const count = (t: string) => (legacy.prepare(`select count(*) as n from ${t}`).get() as { n: number }).n;
      const quarantined = (t: string) =>
        new Set(quarantine.filter((q) => q.table === t && q.action === 'not-imported').map((q) => q.id)).size;
      const [orders] = await query<{ n: string }>(whole.url, 'select count(*)::text as n from orders.orders');
      expect(Number(orders!.n) + quarantined('orders')).toBe(count('orders'));

      // Money: 19.9 and 2.675 are stored as floats; the import keeps what the old UI showed, half-up.
      const product = legacy
        .prepare(
          'select id, sku, price from products where price - cast(price as integer) between 0.67 and 0.68 order by id limit 1',
        )
        .get() as { sku: string; price: number };
      const [imported] = await query<{ unit_price: string }>(
        whole.url,
        `select unit_price::text from inventory.products where sku = '${product.sku.trim()}'`,
      );
      if (imported) expect(imported.unit_price).toBe(`${Math.floor(product.price)}.68`);

      // Shop-local time in Asia/Shanghai is UTC+8; ids carry the creation time and rows sit in their month's partition.
      const first = legacy
        .prepare(
          "select id, created_at from orders where created_at like '____-__-__ __:__:__' and status = 'completed' order by id limit 1",
        )
        .get() as { id: number; created_at: string };
      const [order] = await query<{ id: string; created_at: Date; partition: string }>(
        whole.url,
        `select id::text, created_at, tableoid::regclass::text as partition from orders.orders where number = 'LG-${String(first.id).padStart(7, '0')}'`,
      );
      expect(order!.created_at.toISOString()).toBe(
        new Date(`${first.created_at.replace(' ', 'T')}+08:00`).toISOString(),
      );
      expect(idTime(order!.id).getTime()).toBe(order!.created_at.getTime());
      const month = order!.created_at.toISOString().slice(0, 7).replace('-', '_');
      expect(order!.partition).toBe(`orders.orders_${month}`);
    } finally {
      legacy.close();
    }

    const [mapped] = await query<{ n: string }>(
      whole.url,
      "select count(*)::text as n from legacy_import.id_map where legacy_table = 'orders'",
    );
    expect(Number(mapped!.n)).toBeGreaterThan(1000);
    const [admin] = await query<{ password_hash: string; role: string }>(
      whole.url,
      "select password_hash, role from users.users where email = 'admin@shop.example'",
    );
    expect(admin).toMatchObject({ role: 'ADMIN', password_hash: expect.stringMatching(/^sha256\$/) });
    expect((await stockgraph(['stock', 'check'], { DATABASE_URL: whole.url })).code).toBe(0);
  }, 400000);

  it('merges duplicate SKUs into the first product: its stock, order lines and log rows follow it', async () => {
    const { legacy, imported, quarantine } = await importedState();
    try {
      // The generator types SKU-00006 again for products 7, 8 (lower case) and 9 (in spaces).
      const group = legacy
        .prepare(
          'select id, sku, stock from products where lower(trim(sku)) = (select lower(trim(sku)) from products where id = 7) order by id',
        )
        .all() as { id: number; sku: string; stock: number }[];
      expect(group.length).toBeGreaterThan(1);
      const [first, ...duplicates] = group.map((g) => g.id);
      const map = await query<{ legacy_id: number; new_id: string }>(
        whole.url,
        `select legacy_id::int, new_id::text from legacy_import.id_map where legacy_table = 'products' and legacy_id in (${group.map((g) => g.id)})`,
      );
      const survivor = map.find((m) => m.legacy_id === first)!.new_id;
      expect(map.map((m) => m.new_id)).toEqual(group.map(() => survivor));
      expect(
        await query(
          whole.url,
          `select id::text, sku, on_hand from inventory.products where lower(sku) = '${group[0]!.sku.trim().toLowerCase()}'`,
        ),
      ).toEqual([{ id: survivor, sku: group[0]!.sku.trim(), on_hand: group.reduce((a, g) => a + g.stock, 0) }]);
      for (const id of duplicates)
        expect(quarantine.filter((q) => q.table === 'products' && q.id === id)).toEqual([
          expect.objectContaining({
            action: 'merged',
            reason: expect.stringContaining(`same SKU as legacy product #${first}`),
          }),
        ]);

      // Every unit sold of any of them, in the orders imported, is on the surviving product.
      const units = (ids: number[]) =>
        (
          legacy
            .prepare(
              `select coalesce(sum(quantity), 0) as n from order_items where product_id in (${ids}) and quantity > 0 and order_id in (select value from json_each(?))`,
            )
            .get(JSON.stringify(imported)) as { n: number }
        ).n;
      expect(units(duplicates)).toBeGreaterThan(0);
      const [sold] = await query<{ n: number }>(
        whole.url,
        `select coalesce(sum(quantity), 0)::int as n from orders.order_items where product_id = '${survivor}'`,
      );
      expect(sold!.n).toBe(units([first!, ...duplicates]));

      // And so is each of their log rows.
      const logged = (
        legacy.prepare(`select id from inventory_log where product_id in (${duplicates})`).all() as { id: number }[]
      ).map((r) => r.id);
      expect(logged.length).toBeGreaterThan(0);
      const moved = await query<{ id: number }>(
        whole.url,
        `select m.legacy_id::int as id from legacy_import.id_map m join inventory.stock_movements s on s.id = m.new_id
         where m.legacy_table = 'inventory_log' and s.product_id = '${survivor}'`,
      );
      expect(moved.map((r) => r.id)).toEqual(expect.arrayContaining(logged));
    } finally {
      legacy.close();
    }
  }, 60000);

  it('merges repeated lines for one product into one line: exact line total, weighted unit price', async () => {
    const { legacy, imported, quarantine } = await importedState();
    try {
      const productOf = new Map(
        (
          await query<{ legacy_id: number; new_id: string }>(
            whole.url,
            "select legacy_id::int, new_id::text from legacy_import.id_map where legacy_table in ('products', 'placeholder_products')",
          )
        ).map((r) => [r.legacy_id, r.new_id]),
      );
      // Orders with two lines for one legacy product at different unit prices (a discount typed in).
      const repeated = legacy
        .prepare(
          `select order_id from order_items where quantity > 0 and order_id in (select value from json_each(?))
           group by order_id, product_id having count(*) > 1 and count(distinct unit_price) > 1 order by order_id`,
        )
        .all(JSON.stringify(imported)) as { order_id: number }[];
      expect(repeated.length).toBeGreaterThan(0);
      let weighted = 0;
      for (const { order_id: order } of repeated) {
        const lines = legacy
          .prepare(
            'select id, product_id, quantity, unit_price from order_items where order_id = ? and quantity > 0 order by id',
          )
          .all(order) as { id: number; product_id: number; quantity: number; unit_price: number }[];
        const expected = new Map<string, { quantity: number; cents: number; prices: Set<number> }>();
        for (const line of lines) {
          const product = productOf.get(line.product_id)!;
          const merged = expected.get(product);
          if (merged)
            expect(quarantine.filter((q) => q.table === 'order_items' && q.id === line.id)).toEqual([
              expect.objectContaining({
                action: 'merged',
                reason: expect.stringMatching(
                  new RegExp(`^merged into the line for product #\\d+ of order #${order}$`),
                ),
              }),
            ]);
          const e = merged ?? { quantity: 0, cents: 0, prices: new Set<number>() };
          e.quantity += line.quantity;
          e.cents += cents(line.unit_price) * line.quantity;
          e.prices.add(cents(line.unit_price));
          expected.set(product, e);
        }
        const stored = await query<{ product_id: string; quantity: number; unit_price: string; line_total: string }>(
          whole.url,
          `select i.product_id::text, i.quantity, i.unit_price::text, i.line_total::text from orders.order_items i
           join orders.orders o on o.id = i.order_id and o.created_at = i.created_at
           where o.number = 'LG-${String(order).padStart(7, '0')}' order by i.product_id`,
        );
        expect(stored).toEqual(
          [...expected]
            .map(([product, e]) => ({
              product_id: product,
              quantity: e.quantity,
              unit_price: decimal(Math.round(e.cents / e.quantity)),
              line_total: decimal(e.cents),
            }))
            .sort((a, b) => (a.product_id < b.product_id ? -1 : 1)),
        );
        for (const e of expected.values())
          if (e.prices.size > 1 && !e.prices.has(Math.round(e.cents / e.quantity))) weighted++;
      }
      expect(weighted).toBeGreaterThan(0);
    } finally {
      legacy.close();
    }
  }, 60000);

  it('keeps the lines of deleted and quarantined products against placeholders; quarantines quantity 0', async () => {
    const { legacy, imported, quarantine } = await importedState();
    try {
      const orphaned = legacy
        .prepare(
          `select i.product_id as product, sum(i.quantity) as units, exists (select 1 from products p where p.id = i.product_id) as quarantined
           from order_items i where i.quantity > 0 and i.unit_price >= 0 and i.order_id in (select value from json_each(?))
             and (not exists (select 1 from products p where p.id = i.product_id)
               or i.product_id in (select id from products where stock < 0))
           group by i.product_id`,
        )
        .all(JSON.stringify(imported)) as { product: number; units: number; quarantined: number }[];
      expect(orphaned.filter((o) => !o.quarantined).length).toBeGreaterThan(0);
      expect(orphaned.filter((o) => o.quarantined).length).toBeGreaterThan(0);
      for (const { product, units, quarantined } of orphaned) {
        const [placeholder] = await query<{
          name: string;
          category: string;
          on_hand: number;
          units: number;
          moves: number;
        }>(
          whole.url,
          `select p.name, p.category, p.on_hand,
             (select coalesce(sum(quantity), 0)::int from orders.order_items i where i.product_id = p.id) as units,
             (select count(*)::int from inventory.stock_movements s where s.product_id = p.id) as moves
           from inventory.products p where p.sku = 'LEGACY-${product}'`,
        );
        expect(placeholder).toEqual({
          name: `Legacy product #${product} (${quarantined ? 'quarantined' : 'deleted'})`,
          category: 'Archived (legacy import)',
          on_hand: 0,
          units,
          moves: 0,
        });
      }
      // Their log rows stay quarantined: a product that no longer exists has no stock for them to explain.
      const gone = legacy
        .prepare('select id from inventory_log where product_id not in (select id from products)')
        .all() as { id: number }[];
      expect(gone.length).toBeGreaterThan(0);
      for (const { id } of gone)
        expect(quarantine.find((q) => q.table === 'inventory_log' && q.id === id)).toMatchObject({
          action: 'not-imported',
          reason: expect.stringMatching(/does not exist \(deleted\): no stock is left/),
        });

      // A line of quantity 0 or below cannot be placed anywhere: quarantined, its order imported without it.
      const zero = legacy
        .prepare(
          'select id, order_id, product_id from order_items where quantity <= 0 and order_id in (select value from json_each(?))',
        )
        .all(JSON.stringify(imported)) as { id: number; order_id: number; product_id: number }[];
      expect(zero.length).toBeGreaterThan(0);
      for (const line of zero) {
        expect(quarantine.filter((q) => q.table === 'order_items' && q.id === line.id)).toEqual([
          expect.objectContaining({
            action: 'not-imported',
            reason: expect.stringMatching(/^quantity -?\d+ \(must be above 0\)$/),
          }),
        ]);
        const [kept] = await query<{ n: number }>(
          whole.url,
          `select count(*)::int as n from orders.order_items i join orders.orders o on o.id = i.order_id
           join legacy_import.id_map m on m.new_id = i.product_id and m.legacy_id = ${line.product_id}
             and m.legacy_table in ('products', 'placeholder_products')
           where o.number = 'LG-${String(line.order_id).padStart(7, '0')}'`,
        );
        expect(kept!.n).toBe(0);
      }
    } finally {
      legacy.close();
    }
  }, 60000);

  it('imports every clean legacy order with the total of its lines to the cent and the same units', async () => {
    const { legacy } = await importedState();
    try {
      // Clean: its customer exists with a real date, it has a known status, a real timestamp, lines,
      // and every line has a positive quantity. Repeated lines and lines of deleted products included.
      const real = (text: string | null) => {
        const m = /^(\d{4})[-/](\d{2})[-/](\d{2}) \d{2}:\d{2}/.exec(text ?? '');
        if (!m || Number(m[1]) < 1970) return false;
        const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
        return d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
      };
      const customers = new Set(
        (legacy.prepare('select id, created_at from customers').all() as { id: number; created_at: string }[])
          .filter((c) => real(c.created_at))
          .map((c) => c.id),
      );
      const orders = legacy.prepare('select id, customer_id, status, created_at from orders').all() as {
        id: number;
        customer_id: number | null;
        status: string;
        created_at: string;
      }[];
      const lines = legacy.prepare('select order_id, quantity, unit_price from order_items').all() as {
        order_id: number;
        quantity: number;
        unit_price: number;
      }[];
      const linesOf = new Map<number, typeof lines>();
      for (const l of lines) linesOf.set(l.order_id, [...(linesOf.get(l.order_id) ?? []), l]);
      const clean = orders.filter(
        (o) =>
          o.customer_id !== null &&
          customers.has(o.customer_id) &&
          real(o.created_at) &&
          ['pending', 'paid', 'shipped', 'completed', 'cancelled', 'refunded'].includes(
            o.status.trim().toLowerCase(),
          ) &&
          (linesOf.get(o.id) ?? []).length > 0 &&
          linesOf.get(o.id)!.every((l) => l.quantity > 0),
      );
      expect(clean.length).toBeGreaterThan(1300);
      const stored = new Map(
        (
          await query<{ number: string; cents: number; units: number }>(
            whole.url,
            `select o.number, (o.total * 100)::int as cents, (select sum(quantity)::int from orders.order_items i
               where i.order_id = o.id and i.created_at = o.created_at) as units from orders.orders o`,
          )
        ).map((r) => [r.number, { cents: r.cents, units: r.units }]),
      );
      const differences = clean.flatMap((o) => {
        const own = linesOf.get(o.id)!;
        const expected = {
          cents: own.reduce((a, l) => a + cents(l.unit_price) * l.quantity, 0),
          units: own.reduce((a, l) => a + l.quantity, 0),
        };
        const actual = stored.get(`LG-${String(o.id).padStart(7, '0')}`);
        return actual && actual.cents === expected.cents && actual.units === expected.units
          ? []
          : [{ order: o.id, expected, actual }];
      });
      expect(differences).toEqual([]);
    } finally {
      legacy.close();
    }
  }, 60000);

  it('changes nothing when run again on a finished import', async () => {
    const before = await tableDigests(whole.url, TABLES);
    const again = await stockgraph(['--json', 'import', 'sqlite', file, '--report', join(dir, 'again')], {
      DATABASE_URL: whole.url,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, resumed: true });
    expect(await tableDigests(whole.url, TABLES)).toEqual(before);
  }, 400000);

  it('killed midway, continues on the next run and ends exactly like an uninterrupted import', async () => {
    const child = spawnStockgraph(['import', 'sqlite', file, '--chunk-size', '40', '--report', join(dir, 'killed')], {
      DATABASE_URL: resumed.url,
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let steps = 0;
    // Past the dropped secondary indexes and the small tables, into the orders chunks.
    for (let i = 0; i < 600 && steps < 12; i++) {
      await new Promise((r) => setTimeout(r, 50));
      steps =
        Number(
          (
            await query<{ n: string }>(
              resumed.url,
              "select count(*)::text as n from pg_tables where schemaname = 'legacy_import' and tablename = 'progress'",
            )
          )[0]!.n,
        ) > 0
          ? Number(
              (await query<{ n: string }>(resumed.url, 'select count(*)::text as n from legacy_import.progress'))[0]!.n,
            )
          : 0;
    }
    child.kill('SIGKILL');
    await exited;
    const partial = await tableDigests(resumed.url, TABLES);
    expect(partial).not.toEqual(await tableDigests(whole.url, TABLES));

    const rerun = await stockgraph(['import', 'sqlite', file, '--chunk-size', '40', '--report', join(dir, 'resumed')], {
      DATABASE_URL: resumed.url,
    });
    expect(rerun.code, rerun.stderr + rerun.stdout).toBe(0);
    expect(await tableDigests(resumed.url, TABLES)).toEqual(await tableDigests(whole.url, TABLES));
    // The secondary indexes dropped for the load are all back, on every partition.
    const [after] = await indexes(resumed.url);
    for (const name of migratedIndexes.split(',').filter((n) => !/_\d{4}_\d{2}:/.test(n)))
      expect(after!.i.split(',')).toContain(name);
    expect(after!.i).toEqual((await indexes(whole.url))[0]!.i);
    const [deferred] = await query<{ n: string }>(
      resumed.url,
      'select count(*)::text as n from legacy_import.deferred_index',
    );
    expect(deferred!.n).toBe('0');
    // The id map's key, dropped for the load as well, guards it again.
    for (const url of [resumed.url, whole.url]) {
      const [key] = await query<{ n: string }>(
        url,
        "select count(*)::text as n from pg_constraint where conrelid = 'legacy_import.id_map'::regclass and contype = 'p'",
      );
      expect(key!.n).toBe('1');
    }
  }, 400000);

  it('answers bad input with one line and exit code 2 (misuse) or 1 (failure)', async () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not a database at all\n'.repeat(10));
    const other = join(dir, 'other.db');
    const otherDb = new DatabaseSync(other);
    otherDb.exec('create table things (id integer primary key)');
    otherDb.close();
    const locked = join(dir, 'locked.db');
    const [made, empty, occupied] = await Promise.all([
      stockgraph(['import', 'make-legacy', locked, '--orders', '5']),
      createTestDatabase('cli_bad'),
      createTestDatabase('cli_occupied'),
    ]);
    expect(made.code).toBe(0);
    const holder = new DatabaseSync(locked);
    holder.exec('begin exclusive');
    try {
      const cases: [string[], Record<string, string>, number, RegExp][] = [
        [['import', 'sqlite', join(dir, 'missing.db')], { DATABASE_URL: empty.url }, 2, /missing\.db: no such file/],
        [['import', 'sqlite', text], { DATABASE_URL: empty.url }, 2, /not an SQLite database/],
        [
          ['import', 'sqlite', other],
          { DATABASE_URL: empty.url },
          2,
          /not a legacy store: none of its tables .* it holds things/,
        ],
        [['import', 'sqlite', locked], { DATABASE_URL: empty.url }, 1, /locked by another process/],
        [['import', 'sqlite', file], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' }, 1, /cannot reach/],
        [
          ['import', 'sqlite', file],
          { DATABASE_URL: empty.url },
          1,
          /is not migrated .* run `stockgraph db migrate` first/,
        ],
        [
          ['import', 'sqlite', file, '--time-zone', 'Mars/Olympus'],
          { DATABASE_URL: empty.url },
          2,
          /not an IANA time zone/,
        ],
        [['import', 'nothing'], {}, 2, /unknown command/],
        [
          ['import', 'verify', file],
          { DATABASE_URL: empty.url },
          2,
          /was never imported into: run `stockgraph import sqlite .*` first/,
        ],
        [['import', 'verify', join(dir, 'missing.db')], { DATABASE_URL: empty.url }, 2, /missing\.db: no such file/],
      ];
      // Each case is its own process and none writes anything: they run at once.
      const [results, occupiedRun, help] = await Promise.all([
        Promise.all(cases.map(([args, env]) => stockgraph(args, env))),
        // A database that already holds other data is never imported into.
        (async () => {
          expect((await stockgraph(['db', 'migrate'], { DATABASE_URL: occupied.url })).code).toBe(0);
          await query(
            occupied.url,
            "insert into customers.customers (id, name) values ('0190b3c4-0000-7000-8000-00000000c0de', 'Already here')",
          );
          return stockgraph(['import', 'sqlite', file], { DATABASE_URL: occupied.url });
        })(),
        stockgraph(['import', 'sqlite', '--help']),
      ]);
      cases.forEach(([args, , code, message], i) => {
        const result = results[i]!;
        const out = code === 0 ? result.stdout : result.stderr;
        expect({ args, code: result.code, out }).toMatchObject({ args, code, out: expect.stringMatching(message) });
        if (code === 1) expect(result.stderr.trim().split('\n')).toHaveLength(1);
      });
      expect(occupiedRun.code).toBe(1);
      expect(occupiedRun.stderr).toMatch(/is not empty \(customers\.customers hold rows\)/);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/--time-zone/);
    } finally {
      holder.close();
      await Promise.all([empty.drop(), occupied.drop()]);
    }
  }, 400000);

  it('import verify: agrees with a finished import; a planted difference fails with exit 1 and names the row', async () => {
    const agreed = await stockgraph(['--json', 'import', 'verify', file, '--report', join(dir, 'verify-ok')], {
      DATABASE_URL: whole.url,
    });
    expect(agreed.code, agreed.stderr + agreed.stdout).toBe(0);
    expect(JSON.parse(agreed.stdout)).toMatchObject({ ok: true, command: 'import verify', timeZone: 'Asia/Shanghai' });

    // One order a cent off, another missing one of its lines.
    const [changed, cut] = await query<{ id: string; legacy: number }>(
      whole.url,
      `select o.id::text, m.legacy_id::int as legacy from orders.orders o
       join legacy_import.id_map m on m.legacy_table = 'orders' and m.new_id = o.id
       where (select count(*) from orders.order_items i where i.order_id = o.id) >= 2 order by m.legacy_id limit 2`,
    );
    await query(whole.url, `update orders.orders set total = total + 0.01 where id = '${changed!.id}'`);
    const [line] = await query<{ product: string }>(
      whole.url,
      `delete from orders.order_items where order_id = '${cut!.id}'
         and product_id = (select min(product_id::text)::uuid from orders.order_items where order_id = '${cut!.id}')
       returning product_id::text as product`,
    );
    const [product] = await query<{ legacy: number }>(
      whole.url,
      `select min(legacy_id)::int as legacy from legacy_import.id_map
       where new_id = '${line!.product}' and legacy_table in ('products', 'placeholder_products')`,
    );
    const report = join(dir, 'verify-planted');
    const failed = await stockgraph(['import', 'verify', file, '--report', report], { DATABASE_URL: whole.url });
    expect(failed.code, failed.stderr + failed.stdout).toBe(1);
    expect(failed.stdout).toMatch(
      new RegExp(`disagrees: orders: total per order \\(cents\\) .*orders ${changed!.legacy}\\b`),
    );
    const { verification } = JSON.parse(readFileSync(join(report, 'verification.json'), 'utf8')) as {
      verification: { ok: boolean; checks: { name: string; ok: boolean; differences: Record<string, unknown>[] }[] };
    };
    const check = (name: string) => verification.checks.find((c) => c.name === name)!;
    expect(verification.ok).toBe(false);
    const [planted] = check('orders: total per order (cents) = its legacy lines').differences;
    expect(planted).toMatchObject({ table: 'orders', id: changed!.legacy });
    expect(Number(planted!.stockgraph) - Number(planted!.legacy)).toBe(1);
    expect(check('orders: units per order').differences).toEqual([
      expect.objectContaining({ table: 'orders', id: cut!.legacy }),
    ]);
    expect(check('units ordered per product').differences).toEqual([
      expect.objectContaining({
        table: 'products',
        id: expect.stringMatching(new RegExp(`^#${product!.legacy}\\b`)),
      }),
    ]);
    expect(check('per month: revenue (cents)').ok).toBe(false);
    expect(readFileSync(join(report, 'verification.md'), 'utf8')).toMatch(/verification: FAILED/);
  }, 400000);
});
