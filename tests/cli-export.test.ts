/**
 * `stockgraph export sqlite`, round trip: a legacy file imported, orders placed through the gateway
 * after the cutover (one of them on a product created after it), then exported back into a legacy
 * file, read here with node:sqlite apart from the exporter.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { createTestDatabase, graphql, type Stack } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEGACY_COLUMNS, LEGACY_TABLES } from '../cli/src/legacy/reader.js';
import { query, stockgraph } from './cli-support.js';
import { eventually, placeOrder, startSagaStack } from '@stockgraph/testkit/saga';

let dir: string;
let legacyFile: string;
let stack: Stack;
let url: string;
let signedIn: { legacyId: number; headers: Record<string, string> };
const placed: { id: string; fulfilled: boolean }[] = [];

/** Cents of a REAL as the old UI showed it (half-up from its text), computed apart from the exporter. */
const cents = (value: number) => Math.round(Number((value * 100).toPrecision(12)));
const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

const legacyIds = async (table: string) =>
  new Map(
    (
      await query<{ id: string; legacy: number }>(
        url,
        `select new_id::text as id, min(legacy_id)::int as legacy from legacy_import.id_map where legacy_table = '${table}' group by new_id`,
      )
    ).map((r) => [r.id, r.legacy]),
  );

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sg-cli-export-'));
  legacyFile = join(dir, 'legacy.db');
  const [made, database] = await Promise.all([
    stockgraph(['import', 'make-legacy', legacyFile, '--orders', '300']),
    createTestDatabase('cli_export').then(async (db) => {
      const migrated = await stockgraph(['db', 'migrate'], { DATABASE_URL: db.url });
      expect(migrated.code, migrated.stderr).toBe(0);
      return db;
    }),
  ]);
  expect(made.code, made.stderr).toBe(0);
  url = database.url;
  const imported = await stockgraph(['import', 'sqlite', legacyFile, '--report', join(dir, 'report')], {
    DATABASE_URL: url,
  });
  expect(imported.code, imported.stderr).toBe(0);
  // The imported data only: no demo users, customers or products.
  ({ stack } = await startSagaStack({ SEED_DEMO_DATA: 'false' }, { database }));

  // An imported manager (or admin) signs in with the generator's password, pw-<username>.
  const legacy = new DatabaseSync(legacyFile, { readOnly: true });
  const users = legacy
    .prepare(
      "select id, username, lower(email) as email from users where is_active = 1 and role in ('admin', 'manager') order by id",
    )
    .all() as { id: number; username: string; email: string }[];
  legacy.close();
  const userMap = await legacyIds('users');
  const candidate = users.find((u) => [...userMap.values()].includes(u.id))!;
  const { accessToken } = await stack.login(candidate.email, `pw-${candidate.username}`);
  signedIn = { legacyId: candidate.id, headers: { authorization: `Bearer ${accessToken}` } };

  const [customer] = await query<{ id: string }>(url, 'select id::text from customers.customers order by id limit 1');
  const stocked = await query<{ id: string }>(
    url,
    'select id::text from inventory.products where on_hand - reserved >= 20 order by sku limit 2',
  );
  // A product created after the cutover: a new legacy product id, a RECEIPT ('purchase') log row.
  const sku = `T-${randomUUID().slice(0, 8)}`;
  const product = await graphql(
    stack.gateway.url,
    'mutation ($i: CreateProductInput!) { createProduct(input: $i) { id } }',
    { i: { sku, name: `New ${sku}`, unitPrice: '9.99' } },
    signedIn.headers,
  );
  expect(product.errors).toBeUndefined();
  const created = product.data.createProduct.id as string;
  const received = await graphql(
    stack.gateway.url,
    'mutation ($id: ID!, $q: Int!) { receiveStock(productId: $id, quantity: $q) { onHand } }',
    { id: created, q: 15 },
    signedIn.headers,
  );
  expect(received.errors).toBeUndefined();
  // Orders learns the new product's price from inventory's events.
  await eventually(
    async () => (await query(url, `select 1 from orders.product_prices where product_id = '${created}'`)).length === 1,
    30_000,
    'orders knows the price',
  );
  const orders = [
    [
      { productId: stocked[0]!.id, quantity: 2 },
      { productId: created, quantity: 3 },
    ],
    [{ productId: stocked[1]!.id, quantity: 1 }],
  ];
  for (const items of orders) {
    const result = await placeOrder(stack, signedIn.headers, items, randomUUID(), customer!.id);
    expect(result.errors).toBeUndefined();
    placed.push({ id: result.data.placeOrder.id as string, fulfilled: false });
  }
  // Inventory confirms both (reservation); the first is then fulfilled: its stock is sold.
  for (const order of placed)
    await eventually(
      async () =>
        (await query<{ status: string }>(url, `select status::text from orders.orders where id = '${order.id}'`))[0]
          ?.status === 'CONFIRMED',
      30_000,
      'order confirmed',
    );
  const fulfilled = await graphql(
    stack.gateway.url,
    'mutation ($id: ID!) { fulfillOrder(id: $id) { status } }',
    { id: placed[0]!.id },
    signedIn.headers,
  );
  expect(fulfilled.errors).toBeUndefined();
  placed[0]!.fulfilled = true;
  await eventually(
    async () =>
      (
        await query<{ n: number }>(
          url,
          `select count(*)::int as n from inventory.stock_movements where reason = 'SALE' and order_id = '${placed[0]!.id}'`,
        )
      )[0]!.n === 2,
    30_000,
    'sale in the ledger',
  );
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('stockgraph export sqlite', () => {
  it('writes the legacy schema with every imported and every new order, to the cent, and refuses to overwrite', async () => {
    const out = join(dir, 'rollback.db');
    const result = await stockgraph(['--json', 'export', 'sqlite', out], { DATABASE_URL: url });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      newRows: Record<string, number>;
      checks: { ok: boolean }[];
      usersNeedingPasswordReset: number;
    };
    expect(report.ok).toBe(true);
    expect(report.checks.every((c) => c.ok)).toBe(true);
    expect(report.newRows).toMatchObject({ orders: 2, products: 1, users: 0 });
    // The signed-in user's legacy hash was upgraded to argon2 at sign-in: the old application cannot read it.
    expect(report.usersNeedingPasswordReset).toBe(1);

    const exported = new DatabaseSync(out, { readOnly: true });
    const legacy = new DatabaseSync(legacyFile, { readOnly: true });
    try {
      // Exactly the legacy schema: the same tables, columns and indexes as a file make-legacy writes.
      const schema = (db: DatabaseSync) =>
        db.prepare("select type, name, sql from sqlite_master where name not like 'sqlite_%' order by name").all();
      expect(schema(exported)).toEqual(schema(legacy));
      for (const table of LEGACY_TABLES)
        expect(
          (exported.prepare(`pragma table_info(${table})`).all() as { name: string }[]).map((c) => c.name),
        ).toEqual(LEGACY_COLUMNS[table]);

      // Every imported order under its legacy id, with Stockgraph's total to the cent and its status.
      const imported = await query<{ legacy: number; total: string; status: string }>(
        url,
        `select m.legacy_id::int as legacy, o.total::text as total, o.status::text as status from orders.orders o
         join legacy_import.id_map m on m.legacy_table = 'orders' and m.new_id = o.id`,
      );
      expect(imported.length).toBeGreaterThan(250);
      const status: Record<string, string> = {
        PENDING: 'pending',
        CONFIRMED: 'pending',
        FULFILLED: 'completed',
        CANCELLED: 'cancelled',
        REJECTED: 'cancelled',
      };
      const byId = new Map(
        (
          exported.prepare('select id, total, status from orders').all() as {
            id: number;
            total: number;
            status: string;
          }[]
        ).map((o) => [o.id, o]),
      );
      for (const order of imported) {
        const row = byId.get(order.legacy);
        expect(row, `legacy order ${order.legacy}`).toBeDefined();
        expect(cents(row!.total)).toBe(Math.round(Number(order.total) * 100));
        expect(row!.status).toBe(status[order.status]);
      }

      // The new orders: ids above the legacy ones, their lines, totals to the cent, status, creator.
      const maxLegacy = Math.max(...imported.map((o) => o.legacy));
      const products = await legacyIds('products');
      const newProducts = await query<{ id: string }>(
        url,
        "select id::text from inventory.products where sku like 'T-%'",
      );
      const maxProduct = Math.max(...products.values());
      const productOf = new Map(products);
      const newProductId = (exported.prepare('select id from products where sku like ?').get('T-%') as { id: number })
        .id;
      expect(newProductId).toBe(maxProduct + 1);
      productOf.set(newProducts[0]!.id, newProductId);
      const fresh = exported.prepare('select * from orders where id > ? order by id').all(maxLegacy) as {
        id: number;
        total: number;
        status: string;
        created_by: number;
        created_at: string;
      }[];
      expect(fresh.map((o) => o.id)).toEqual([maxLegacy + 1, maxLegacy + 2]);
      for (const [i, order] of placed.entries()) {
        const row = fresh[i]!;
        const [pg] = await query<{ total: string }>(
          url,
          `select total::text from orders.orders where id = '${order.id}'`,
        );
        const lines = await query<{ product: string; quantity: number; unit: string }>(
          url,
          `select product_id::text as product, quantity, unit_price::text as unit from orders.order_items
           where order_id = '${order.id}' order by product_id`,
        );
        const items = exported
          .prepare('select product_id, quantity, unit_price from order_items where order_id = ? order by product_id')
          .all(row.id) as { product_id: number; quantity: number; unit_price: number }[];
        expect(items.map((it) => [it.product_id, it.quantity, cents(it.unit_price)]).sort()).toEqual(
          lines.map((l) => [productOf.get(l.product), l.quantity, Math.round(Number(l.unit) * 100)]).sort(),
        );
        expect(cents(row.total)).toBe(Math.round(Number(pg!.total) * 100));
        expect(items.reduce((sum, it) => sum + it.quantity * cents(it.unit_price), 0)).toBe(cents(row.total));
        expect(row.status).toBe(order.fulfilled ? 'completed' : 'pending');
        expect(row.created_by).toBe(signedIn.legacyId);
        expect(row.created_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      }
      // The fulfilled order's sales are in the log against its exported id.
      expect(
        (
          exported
            .prepare("select count(*) as n from inventory_log where reason = 'sale' and ref_order_id = ?")
            .get(fresh[0]!.id) as { n: number }
        ).n,
      ).toBe(2);

      // Stock is on_hand, product by product (merged duplicates under their lowest legacy id).
      const onHand = await query<{ id: string; on_hand: number }>(
        url,
        'select id::text, on_hand from inventory.products',
      );
      const stock = new Map(
        (exported.prepare('select id, stock from products').all() as { id: number; stock: number }[]).map((p) => [
          p.id,
          p.stock,
        ]),
      );
      expect(stock.size).toBe(onHand.length);
      for (const p of onHand) expect(stock.get(productOf.get(p.id)!), p.id).toBe(p.on_hand);
      // And the log adds up to it, as the old application expects.
      for (const [id, units] of stock) {
        const { s } = exported
          .prepare('select coalesce(sum(change), 0) as s from inventory_log where product_id = ?')
          .get(id) as { s: number };
        expect(s, `product ${id}`).toBe(units);
      }
    } finally {
      exported.close();
      legacy.close();
    }

    // Again to the same path: refused (exit 2), the file untouched.
    const before = { hash: digest(out), mtime: statSync(out).mtimeMs };
    const again = await stockgraph(['export', 'sqlite', out], { DATABASE_URL: url });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists: pass --force/);
    expect({ hash: digest(out), mtime: statSync(out).mtimeMs }).toEqual(before);

    // A zone that is none: refused before anything is read.
    const badZone = await stockgraph(['export', 'sqlite', join(dir, 'other.db'), '--time-zone', 'Mars/Olympus'], {
      DATABASE_URL: url,
    });
    expect(badZone.code).toBe(2);
    expect(badZone.stderr).toMatch(/not an IANA time zone/);
  }, 60_000);
});
