import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createTestDatabase, type TestDatabase } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flag, QuarantineEntry } from '../cli/src/import/plan.js';
import { query, stockgraph } from './cli-support.js';

/**
 * Legacy files as they come from the field rather than from schema.sql: values SQLite let into
 * columns of another kind, tables missing or grown, a view where a table should be, and a file the
 * old application is still writing. Each gets its answer; nothing is lost without being named.
 */
let dir: string;
let n = 0;

async function legacyFile(orders: number, change?: (db: DatabaseSync) => void): Promise<string> {
  const file = join(dir, `legacy-${n++}.db`);
  const made = await stockgraph(['import', 'make-legacy', file, '--orders', String(orders), '--seed', '11']);
  expect(made.code, made.stderr).toBe(0);
  if (change) {
    const db = new DatabaseSync(file);
    change(db);
    db.close();
  }
  return file;
}

async function migrated(name: string): Promise<TestDatabase> {
  const db = await createTestDatabase(name);
  const result = await stockgraph(['db', 'migrate'], { DATABASE_URL: db.url });
  expect(result.code, result.stderr).toBe(0);
  return db;
}

const reportOf = (report: string) =>
  JSON.parse(readFileSync(join(report, 'quarantine.json'), 'utf8')) as { quarantine: QuarantineEntry[]; flags: Flag[] };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sg-cli-input-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('legacy files from the field', () => {
  it('settles values of the wrong kind: text made readable and listed, unreadable numbers quarantined', async () => {
    const file = await legacyFile(300, (db) => {
      db.exec(`
        update customers set name = cast(x'4e756c6c0042797465' as text) where id = 1;
        -- a table of another build of the application, its columns declared without types, keeps numbers as numbers
        alter table customers rename to customers_typed;
        create table customers (id integer primary key autoincrement, name, phone, email, address, created_at);
        insert into customers select * from customers_typed;
        drop table customers_typed;
        update customers set phone = 13800138000 where id = 2;
        update products set description = x'00ff10' where id = 1;
        update order_items set quantity = 'abc' where id = 1;
        update order_items set quantity = 2.5 where id = 2;
        update products set price = 'free' where id = 2;
      `);
    });
    const db = await migrated('cli_input_values');
    try {
      const report = join(dir, 'values');
      const result = await stockgraph(['--json', 'import', 'sqlite', file, '--report', report], {
        DATABASE_URL: db.url,
      });
      expect(result.code, result.stderr + result.stdout).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ ok: true });
      const { quarantine, flags } = reportOf(report);
      const entry = (table: string, id: number) => quarantine.find((q) => q.table === table && q.id === id);
      expect(entry('order_items', 1)).toMatchObject({
        action: 'not-imported',
        reason: "quantity holds text 'abc', not a whole number",
      });
      expect(entry('order_items', 2)).toMatchObject({
        action: 'not-imported',
        reason: expect.stringMatching(/quantity holds a fraction \(2\.5\)/),
      });
      expect(entry('products', 2)).toMatchObject({
        action: 'not-imported',
        reason: "price holds text 'free', not a number",
      });
      expect(flags).toEqual(
        expect.arrayContaining([
          { table: 'customers', id: 1, note: 'name held NUL characters: each imported as U+FFFD' },
          { table: 'customers', id: 2, note: 'phone held a number: imported as its text' },
          { table: 'products', id: 1, note: 'description held binary data: imported as its hexadecimal text' },
        ]),
      );
      const names = await query<{ name: string }>(
        db.url,
        `select name from customers.customers where name like 'Null%'`,
      );
      expect(names).toEqual([{ name: 'Null\uFFFDByte' }]);
      const phones = await query<{ n: number }>(
        db.url,
        `select count(*)::int as n from customers.customers where phone = '+13800138000' or phone = '13800138000'`,
      );
      expect(phones[0]!.n).toBe(1);
    } finally {
      await db.drop();
    }
  }, 300_000);

  it('reads missing optional tables as empty and says which columns it did not import', async () => {
    const file = await legacyFile(300, (db) => {
      db.exec(`
        drop table inventory_log;
        drop table users;
        alter table orders add column coupon_code text;
        update orders set coupon_code = 'WINTER' where id % 7 = 0;
      `);
    });
    const db = await migrated('cli_input_shape');
    try {
      const result = await stockgraph(['import', 'sqlite', file, '--report', join(dir, 'shape')], {
        DATABASE_URL: db.url,
      });
      expect(result.code, result.stderr + result.stdout).toBe(0);
      expect(result.stdout).toMatch(/Note: table users is absent: read as empty/);
      expect(result.stdout).toMatch(/Note: table inventory_log is absent: read as empty/);
      expect(result.stdout).toMatch(
        /Note: orders has columns the legacy schema does not \(coupon_code\): not imported/,
      );
      // With no log, every product's stock comes in as one reconciling movement: stock = ledger still.
      const [row] = await query<{ off: number }>(
        db.url,
        `select count(*)::int as off from inventory.products p where p.on_hand <>
           (select coalesce(sum(delta), 0) from inventory.stock_movements s where s.product_id = p.id and s.reason <> 'RESERVATION' and s.reason <> 'RELEASE')`,
      );
      expect(row!.off).toBe(0);
    } finally {
      await db.drop();
    }
  }, 300_000);

  it('refuses a view standing in for a legacy table before reading it', async () => {
    const file = await legacyFile(20, (db) => {
      db.exec(`
        drop table customers;
        create view customers as
          with recursive spin(i) as (select 1 union all select i + 1 from spin)
          select i as id, 'x' as name, null as phone, null as email, null as address, '2020-01-01 00:00:00' as created_at from spin;
      `);
    });
    const db = await migrated('cli_input_view');
    try {
      const result = await stockgraph(['import', 'sqlite', file], { DATABASE_URL: db.url });
      expect(result.code).toBe(2);
      expect(result.stderr.trim()).toMatch(/not the legacy schema \(customers is a view, not a table\)$/);
    } finally {
      await db.drop();
    }
  }, 120_000);

  it('imports a file the legacy application is still writing as of one moment, and verifies it', async () => {
    const file = await legacyFile(1500, (db) => db.exec('pragma journal_mode = wal'));
    // The old application, taking an order every few milliseconds in its own process.
    const writer = spawn(
      process.execPath,
      [
        '-e',
        `const { DatabaseSync } = require('node:sqlite');
         const db = new DatabaseSync(process.argv[1], { timeout: 5000 });
         const order = db.prepare("insert into orders (customer_id, status, total, created_by, created_at) values (1, 'paid', 10, null, '2026-12-01 10:00:00')");
         const item = db.prepare('insert into order_items (order_id, product_id, quantity, unit_price) values (?, 1, 1, 10)');
         let written = 0;
         const tick = () => { db.exec('begin'); const { lastInsertRowid } = order.run(); item.run(lastInsertRowid); db.exec('commit'); written++; if (written === 20) console.log('writing'); setTimeout(tick, 2); };
         tick();`,
        file,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const db = await migrated('cli_input_live');
    try {
      await new Promise<void>((resolve) => writer.stdout!.once('data', () => resolve()));
      const result = await stockgraph(['--json', 'import', 'sqlite', file, '--report', join(dir, 'live')], {
        DATABASE_URL: db.url,
      });
      expect(writer.exitCode).toBeNull();
      expect(result.code, result.stderr + result.stdout).toBe(0);
      const report = JSON.parse(result.stdout) as { ok: boolean; legacyRows: { orders: number } };
      expect(report.ok).toBe(true);
      writer.kill();
      await new Promise((r) => writer.once('exit', r));
      // The file went on growing after the copy was taken; the import holds the copy's orders.
      const now = new DatabaseSync(file, { readOnly: true });
      const total = (now.prepare('select count(*) as n from orders').get() as { n: number }).n;
      now.close();
      expect(total).toBeGreaterThan(report.legacyRows.orders);
    } finally {
      writer.kill();
      await db.drop();
    }
  }, 300_000);
});
