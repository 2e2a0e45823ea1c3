/**
 * `stockgraph export sqlite`: what Stockgraph holds, orders placed after the cutover included, written
 * into a new file of the legacy schema (cli/src/legacy/schema.sql, exactly) that the old application
 * opens: the way back from a failed cutover. Each service is read in one read-only snapshot (inventory's
 * stays open while orders are read, so stock and log agree), written in transactions of `batchSize`
 * rows into `<file>.partial`, checked (counts per table, order total in cents) and only then renamed.
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  confirmedLegacyIds,
  connect,
  counts,
  customersCursor,
  hasArchive,
  hasIdMap,
  itemsOf,
  lowestLegacyIds,
  maxLegacyId,
  movementReasons,
  movementsCursor,
  orderFigures,
  ordersPage,
  productsCursor,
  snapshot,
  users as readUsers,
  type Keyset,
  type Sql,
  type Tx,
} from '../db/export.repository.js';
import { tablesExist } from '../db/import.repository.js';
import { CliError, describeDatabaseError, misuse } from '../errors.js';
import { assertTimeZone, PLACEHOLDER_ID_MAP } from '../import/mapping.js';
import { LEGACY_SCHEMA_SQL } from '../legacy/generator.js';
import type { LegacyTable } from '../legacy/reader.js';
import { openSqlite, transaction, type SqliteDatabase } from '../legacy/sqlite.js';
import type { Output } from '../output.js';
import { redactUrl, SUBGRAPH_NAMES, type SubgraphName } from '../targets.js';
import {
  createLocalFormatter,
  IdAllocator,
  isLegacyPasswordHash,
  legacyRole,
  legacyStatus,
  LOGGED_REASONS,
  toReal,
} from './mapping.js';

export interface ExportOptions {
  file: string;
  force: boolean;
  timeZone: string;
  urls: Record<SubgraphName, string>;
  output: Output;
  /** Rows per SQLite transaction and per page read. */
  batchSize: number;
}

export interface ExportCheck {
  name: string;
  postgres: number | string;
  file: number | string;
  ok: boolean;
}

export interface ExportOutcome {
  ok: boolean;
  file: string;
  timeZone: string;
  seconds: number;
  rows: Record<LegacyTable, number>;
  /** Sum of the orders' totals in cents, as read from PostgreSQL. */
  orderTotalCents: string;
  /** Rows created in Stockgraph (no legacy id), given ids above the table's highest legacy id. */
  newRows: Record<'users' | 'customers' | 'products' | 'orders' | 'inventory_log', number>;
  /** Ledger rows not written, per reason: reservations move no stock on hand. */
  skippedMovements: Record<string, number>;
  /** Users whose hash is argon2 (set or changed in Stockgraph): the old application cannot check it. */
  usersNeedingPasswordReset: number;
  /** Users whose name another user already had as username (the legacy column is unique). */
  usersRenamed: number;
  /** Orders whose customer or creator the exported customers/users do not hold (written as NULL). */
  ordersWithoutCustomer: number;
  ordersWithoutCreator: number;
  /** Ledger rows whose order the export does not hold (ref_order_id NULL). */
  movementsWithoutOrder: number;
  checks: ExportCheck[];
}

const TABLES_READ: Record<SubgraphName, string[]> = {
  users: ['users.users'],
  inventory: ['inventory.products', 'inventory.stock_movements'],
  orders: ['orders.orders', 'orders.order_items'],
  customers: ['customers.customers'],
};

async function ping(sql: Sql, url: string) {
  try {
    await sql`select 1`;
  } catch (error) {
    throw describeDatabaseError(error, redactUrl(url)) ?? error;
  }
}

/** Checks the target path and zone before anything is read: misuse is exit 2 and writes nothing. */
export function checkExportTarget(file: string, force: boolean, timeZone: string): string {
  try {
    assertTimeZone(timeZone);
  } catch {
    throw misuse(`--time-zone ${timeZone}: not an IANA time zone (for example Asia/Shanghai)`);
  }
  const target = resolve(file);
  if (!existsSync(dirname(target)) || !statSync(dirname(target)).isDirectory())
    throw misuse(`${file}: directory ${dirname(target)} does not exist`);
  if (existsSync(target)) {
    if (!force) throw misuse(`${file} exists: pass --force to replace it`);
    if (!statSync(target).isFile()) throw misuse(`${file} exists and is not a file`);
  }
  return target;
}

export async function exportSqlite(options: ExportOptions): Promise<ExportOutcome> {
  const started = performance.now();
  const target = checkExportTarget(options.file, options.force, options.timeZone);
  const partial = `${target}.partial`;
  const local = createLocalFormatter(options.timeZone);
  // One connection pool per service, even when they share a database: inventory's snapshot stays open
  // while orders are read in their own.
  const sqlOf = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, connect(options.urls[n])])) as Record<
    SubgraphName,
    Sql
  >;
  let db: SqliteDatabase | undefined;
  try {
    for (const name of SUBGRAPH_NAMES) {
      await ping(sqlOf[name], options.urls[name]);
      const missing = await tablesExist(sqlOf[name], TABLES_READ[name]);
      if (missing.length > 0)
        throw new CliError(`${redactUrl(options.urls[name])} is not migrated (${missing.join(', ')} missing)`);
    }
    rmSync(partial, { force: true });
    db = openSqlite(partial);
    // The file becomes the export only by the final rename: a crash leaves a .partial, never a half file,
    // so the journal buys nothing here.
    db.exec('pragma journal_mode = off; pragma synchronous = off;');
    db.exec(LEGACY_SCHEMA_SQL);
    const file = db;

    const progress = options.output.progress('export', 0);
    let total = 0;
    const expect = (n: number) => progress.setTotal((total += n));
    const expected: Record<LegacyTable, number> = {
      users: 0,
      customers: 0,
      products: 0,
      orders: 0,
      order_items: 0,
      inventory_log: 0,
    };
    const rows = { ...expected };
    const outcome = {
      usersNeedingPasswordReset: 0,
      usersRenamed: 0,
      ordersWithoutCustomer: 0,
      ordersWithoutCreator: 0,
      movementsWithoutOrder: 0,
    };
    const idMapIn = async (tx: Tx, tables: string[]) =>
      (await hasIdMap(tx))
        ? { legacy: await lowestLegacyIds(tx, tables), max: await maxLegacyId(tx, tables) }
        : { legacy: new Map<string, number>(), max: 0 };
    /** Writes `batch` rows through `insert` in one SQLite transaction. */
    const write = <T>(table: LegacyTable, batch: T[], insert: (row: T) => void) => {
      transaction(file, () => batch.forEach(insert));
      rows[table] += batch.length;
      progress.increment(batch.length);
    };

    // Users: a few hundred rows. The legacy username is unique; Stockgraph's name is not.
    const userIds = await snapshot(sqlOf.users, async (tx) => {
      const map = await idMapIn(tx, ['users']);
      expected.users = await counts(tx, 'users.users');
      expect(expected.users);
      const ids = new IdAllocator(map.max);
      const taken = new Set<string>();
      const insert = file.prepare(
        'insert into users (id, username, email, password_hash, role, is_active, created_at) values (?, ?, ?, ?, ?, ?, ?)',
      );
      const all = await readUsers(tx);
      // Legacy rows first, so a user created in Stockgraph never takes the name an imported user had.
      const ordered = [...all.filter((u) => map.legacy.has(u.id)), ...all.filter((u) => !map.legacy.has(u.id))];
      for (let i = 0; i < ordered.length; i += options.batchSize)
        write('users', ordered.slice(i, i + options.batchSize), (u) => {
          let username = u.name;
          if (taken.has(username)) {
            username = taken.has(u.email) ? `${u.name} (${u.email})` : u.email;
            outcome.usersRenamed++;
          }
          taken.add(username);
          if (!isLegacyPasswordHash(u.password_hash)) outcome.usersNeedingPasswordReset++;
          insert.run(
            ids.assign(u.id, map.legacy.get(u.id)),
            username,
            u.email,
            u.password_hash,
            legacyRole(u.role),
            u.active ? 1 : 0,
            local(u.created_at),
          );
        });
      return ids;
    });

    const customerIds = await snapshot(sqlOf.customers, async (tx) => {
      const map = await idMapIn(tx, ['customers']);
      expected.customers = await counts(tx, 'customers.customers');
      expect(expected.customers);
      const ids = new IdAllocator(map.max);
      const insert = file.prepare(
        'insert into customers (id, name, phone, email, address, created_at) values (?, ?, ?, ?, ?, ?)',
      );
      for await (const batch of customersCursor(tx, options.batchSize))
        write('customers', batch, (c) =>
          insert.run(ids.assign(c.id, map.legacy.get(c.id)), c.name, c.phone, c.email, c.address, local(c.created_at)),
        );
      return ids;
    });

    let orderTotalCents = '0';
    let orderIds = new IdAllocator(0, 'created');
    let ordersHaveIdMap = false;
    const skippedMovements: Record<string, number> = {};
    let movementIdsCreated = 0;
    const productIds = await snapshot(sqlOf.inventory, async (inv) => {
      // Products: a duplicate-SKU merge maps several legacy ids to one product, exported once under the
      // lowest; a placeholder product (SKU LEGACY-<id>) exports under the legacy id it stands for.
      const inventoryHasIdMap = await hasIdMap(inv);
      const map = await idMapIn(inv, ['products', PLACEHOLDER_ID_MAP]);
      expected.products = await counts(inv, 'inventory.products');
      const reasons = await movementReasons(inv);
      for (const [reason, n] of Object.entries(reasons)) {
        if (LOGGED_REASONS[reason]) expected.inventory_log += n;
        else skippedMovements[reason] = n;
      }
      expect(expected.products + expected.inventory_log);
      const ids = new IdAllocator(map.max);
      const productIdOf = (productId: string) => {
        const id = ids.ids.get(productId);
        if (id === undefined)
          throw new CliError(`an order line or ledger row names product ${productId}, which inventory does not hold`);
        return id;
      };
      const insertProduct = file.prepare(
        'insert into products (id, sku, name, category, description, price, cost, stock, reorder_level, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      // Stock is on_hand: what is physically there. Reserved units belong to pending orders, which the
      // old application takes stock for when they are paid.
      for await (const batch of productsCursor(inv, options.batchSize))
        write('products', batch, (p) =>
          insertProduct.run(
            ids.assign(p.id, map.legacy.get(p.id)),
            p.sku,
            p.name,
            p.category,
            p.description,
            toReal(p.unit_price),
            toReal(p.cost_price),
            p.on_hand,
            p.reorder_level,
            local(p.created_at),
            local(p.updated_at),
          ),
        );

      await snapshot(sqlOf.orders, async (tx) => {
        ordersHaveIdMap = await hasIdMap(tx);
        const archive = await hasArchive(tx);
        const figures = await orderFigures(tx, archive);
        expected.orders = figures.orders;
        expected.order_items = figures.order_items;
        orderTotalCents = figures.total_cents;
        expect(figures.orders + figures.order_items);
        orderIds = new IdAllocator(ordersHaveIdMap ? await maxLegacyId(tx, ['orders']) : 0, 'created');
        const insertOrder = file.prepare(
          'insert into orders (id, customer_id, status, total, created_by, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)',
        );
        // Legacy item ids are not kept (the import merged repeated lines and mapped no item ids): lines
        // are numbered from 1 in the order written.
        const insertItem = file.prepare(
          'insert into order_items (order_id, product_id, quantity, unit_price) values (?, ?, ?, ?)',
        );
        let after: Keyset | null = null;
        for (;;) {
          const page = await ordersPage(tx, archive, after, options.batchSize);
          if (page.length === 0) break;
          const first = page[0]!;
          const last = page[page.length - 1]!;
          after = { at: last.key_at, id: last.id };
          const ids = page.map((o) => o.id);
          const legacy = ordersHaveIdMap ? await confirmedLegacyIds(tx, 'orders', ids) : new Map<string, number>();
          const items = await itemsOf(tx, archive, ids, first.key_at, last.key_at);
          const exported = new Map<string, number>();
          write('orders', page, (o) => {
            const customer = customerIds.ids.get(o.customer_id);
            if (customer === undefined) outcome.ordersWithoutCustomer++;
            const creator = o.created_by === null ? undefined : userIds.ids.get(o.created_by);
            if (o.created_by !== null && creator === undefined) outcome.ordersWithoutCreator++;
            const id = orderIds.assign(o.id, legacy.get(o.id));
            exported.set(o.id, id);
            insertOrder.run(
              id,
              customer ?? null,
              legacyStatus(o.status),
              toReal(o.total),
              creator ?? null,
              local(o.created_at),
              local(o.updated_at),
            );
          });
          write('order_items', items, (i) => {
            insertItem.run(exported.get(i.order_id)!, productIdOf(i.product_id), i.quantity, toReal(i.unit_price));
          });
        }
      });

      // The ledger: change = delta; ref_order_id is the exported id of its order.
      const logIds = new IdAllocator(inventoryHasIdMap ? await maxLegacyId(inv, ['inventory_log']) : 0, 'created');
      const insertLog = file.prepare(
        'insert into inventory_log (id, product_id, change, reason, ref_order_id, note, created_at) values (?, ?, ?, ?, ?, ?, ?)',
      );
      for await (const batch of movementsCursor(
        inv,
        Object.keys(LOGGED_REASONS),
        inventoryHasIdMap,
        options.batchSize,
      )) {
        const unknown = [
          ...new Set(batch.map((m) => m.order_id).filter((id): id is string => id !== null && !orderIds.ids.has(id))),
        ];
        const legacyOrders = ordersHaveIdMap
          ? await confirmedLegacyIds(sqlOf.orders, 'orders', unknown)
          : new Map<string, number>();
        write('inventory_log', batch, (m) => {
          const order = m.order_id === null ? null : (orderIds.ids.get(m.order_id) ?? legacyOrders.get(m.order_id));
          if (m.order_id !== null && order === undefined) outcome.movementsWithoutOrder++;
          insertLog.run(
            logIds.assign(m.id, m.legacy_id === null ? undefined : Number(m.legacy_id)),
            productIdOf(m.product_id),
            m.delta,
            LOGGED_REASONS[m.reason]!,
            order ?? null,
            m.note,
            local(m.created_at),
          );
        });
      }
      movementIdsCreated = logIds.created;
      return ids;
    });
    progress.stop();

    // The file against what was read: rows per table, and the orders' total to the cent.
    const checks: ExportCheck[] = (Object.keys(expected) as LegacyTable[]).map((table) => {
      const [row] = file.prepare(`select count(*) as n from ${table}`).all() as { n: number }[];
      return { name: `${table} rows`, postgres: expected[table], file: row!.n, ok: row!.n === expected[table] };
    });
    const [sum] = file
      .prepare('select coalesce(sum(cast(round(total * 100) as integer)), 0) as c from orders')
      .all() as { c: number }[];
    checks.push({
      name: 'order total (cents)',
      postgres: orderTotalCents,
      file: String(sum!.c),
      ok: String(sum!.c) === orderTotalCents,
    });
    db.close();
    db = undefined;
    const ok = checks.every((c) => c.ok);
    if (!ok) {
      rmSync(partial, { force: true });
      const wrong = checks.filter((c) => !c.ok).map((c) => `${c.name}: postgres ${c.postgres}, file ${c.file}`);
      throw new CliError(`the written file disagrees with PostgreSQL (${wrong.join('; ')}); nothing was written`);
    }
    renameSync(partial, target);
    return {
      ok,
      file: target,
      timeZone: options.timeZone,
      seconds: Math.round(performance.now() - started) / 1000,
      rows,
      orderTotalCents,
      newRows: {
        users: userIds.created,
        customers: customerIds.created,
        products: productIds.created,
        orders: orderIds.created,
        inventory_log: movementIdsCreated,
      },
      skippedMovements,
      ...outcome,
      checks,
    };
  } catch (error) {
    db?.close();
    rmSync(partial, { force: true });
    throw error;
  } finally {
    await Promise.all(Object.values(sqlOf).map((sql) => sql.end({ timeout: 5 })));
  }
}
