import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { idTime } from '@stockgraph/ids';
import { createTestDatabase, type TestDatabase } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query, spawnStockgraph, stockgraph, tableDigests } from './cli-support.js';

const TABLES = [
  'users.users',
  'inventory.products',
  'inventory.price_history',
  'inventory.stock_movements',
  'orders.orders',
  'orders.order_items',
  'orders.product_prices',
  'orders.known_customers',
  'customers.customers',
];

let dir: string;
let file: string;
let whole: TestDatabase;
let resumed: TestDatabase;
/** Every index of the four services' schemas of a freshly migrated database. */
let migratedIndexes: string;

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
      quarantine: { table: string; id: number; reason: string }[];
    };
    const reasons = quarantine.map((q) => `${q.table}: ${q.reason}`).join('\n');
    for (const expected of [
      /orders: customer #\d+ does not exist \(deleted\)/,
      /order_items: order #\d+ does not exist \(deleted\)/,
      /order_items: product #\d+ does not exist \(deleted\)/,
      /products: duplicate SKU/,
      /products: negative stock/,
      /customers: malformed phone/,
      /impossible created_at/,
      /orders: unknown status "on_hold"/,
      /orders: no items/,
      /order_items: quantity -?\d/,
      /inventory_log: product #\d+ does not exist/,
      /users: no usable email/,
    ]) {
      expect(reasons).toMatch(expected);
    }
    expect(readFileSync(join(report, 'quarantine.md'), 'utf8')).toMatch(/duplicate SKU/);

    // Every legacy row is in Stockgraph or in quarantine; the file's own counts, read here directly.
    const legacy = new DatabaseSync(file, { readOnly: true });
    try {
      const count = (t: string) => (legacy.prepare(`select count(*) as n from ${t}`).get() as { n: number }).n;
      const quarantined = (t: string) =>
        new Set(quarantine.filter((q) => q.table === t && !/kept/.test(q.reason)).map((q) => q.id)).size;
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
        [['import', 'sqlite', other], { DATABASE_URL: empty.url }, 2, /not the legacy schema \(table users is missing/],
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
});
