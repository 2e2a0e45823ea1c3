/**
 * `stockgraph import sqlite`: the legacy store into the four services, in bulk (COPY), resumable
 * (each chunk and its "done" mark commit together; ids are computed, not drawn), then verified.
 */
import { resolve } from 'node:path';
import {
  connect,
  copyField,
  copyInto,
  deferIndexes,
  doneSteps,
  ensureBookkeeping,
  ensurePartitions,
  finishRun,
  isSuperuser,
  skipReferenceChecks,
  markDone,
  monthOf,
  readRun,
  rebuildDeferredIndexes,
  rowsIn,
  startRun,
  rebuildImportedAggregates,
  tablesExist,
  type Sql,
} from '../db/import.repository.js';
import { CliError, describeDatabaseError, misuse } from '../errors.js';
import { legacyCounts, type LegacyTable } from '../legacy/reader.js';
import type { LegacySnapshot } from '../legacy/snapshot.js';
import type { SqliteDatabase } from '../legacy/sqlite.js';
import type { Output } from '../output.js';
import { redactUrl, type SubgraphName } from '../targets.js';
import type postgres from 'postgres';
import { assertTimeZone } from './mapping.js';
import { Planner, type Row } from './plan.js';
import { entityUnits, movementUnits, orderUnits, productUnits, RECONCILIATION_ID_MAP, type Unit } from './units.js';

export interface ImportOptions {
  legacy: LegacySnapshot;
  timeZone: string;
  urls: Record<SubgraphName, string>;
  output: Output;
  /** Legacy orders (and log rows) per transaction. */
  chunkSize: number;
}

export interface ImportOutcome {
  file: string;
  timeZone: string;
  resumed: boolean;
  legacyRows: Record<LegacyTable, number>;
  written: Record<string, number>;
  seconds: number;
  /** Of `seconds`, the wall time during which a write transaction (COPY and commit) was running. */
  writeSeconds: number;
  rowsPerSecond: number;
  /** Seconds per phase, for the bench (phases overlap: orders and the ledger are written at once). */
  phases: Record<string, number>;
  planner: Planner;
}

/** Tables each service owns that the import fills; all must exist (migrated) and be empty at first. */
export const TARGET_TABLES: Record<SubgraphName, string[]> = {
  users: ['users.users'],
  inventory: ['inventory.products', 'inventory.price_history', 'inventory.stock_movements'],
  orders: ['orders.orders', 'orders.order_items', 'orders.product_prices', 'orders.known_customers'],
  customers: ['customers.customers'],
};

/** The bulk-loaded tables whose secondary indexes are built after the load, per owning service. */
const DEFERRED_INDEX_TABLES: Partial<Record<SubgraphName, string[]>> = {
  customers: ['customers.customers'],
  orders: ['orders.orders', 'orders.order_items'],
  // The daily rollup is filled after the load, by the rebuild of the counters: its day index is built after it.
  inventory: ['inventory.stock_movements', 'inventory.stock_daily'],
};

export const COLUMNS = {
  users: ['id', 'email', 'name', 'role', 'active', 'password_hash', 'created_at', 'updated_at'],
  products: [
    'id',
    'sku',
    'name',
    'description',
    'category',
    'unit_price',
    'cost_price',
    'on_hand',
    'reserved',
    'reorder_level',
    'created_at',
    'updated_at',
  ],
  priceHistory: ['id', 'product_id', 'unit_price', 'cost_price', 'changed_at'],
  productPrices: ['product_id', 'unit_price', 'updated_at'],
  customers: ['id', 'name', 'phone', 'email', 'address', 'tier', 'notes', 'created_at', 'updated_at'],
  knownCustomers: ['customer_id', 'created_at'],
  orders: ['id', 'created_at', 'number', 'customer_id', 'status', 'total', 'created_by', 'updated_at'],
  items: ['order_id', 'created_at', 'product_id', 'quantity', 'unit_price', 'line_total'],
  movements: ['id', 'created_at', 'product_id', 'delta', 'reason', 'order_id', 'note', 'actor_id'],
  idMap: ['legacy_table', 'legacy_id', 'new_id', 'digest'],
};

export const lines = (rows: Record<string, Row[string] | undefined>[], columns: string[]) =>
  rows.map((r) => columns.map((c) => copyField(r[c])).join('\t'));
export const unitLines = (units: Unit[]) => units.map((u) => `${u.table}\t${u.legacyId}\t${u.newId}\t${u.digest}`);

/** The ids a legacy table's chunks cover: from 1 (or below) to its highest id. */
export const idRange = (legacy: SqliteDatabase, table: 'orders' | 'inventory_log') =>
  legacy.prepare(`select coalesce(min(id), 1) as lo, coalesce(max(id), 0) as hi from ${table}`).get() as {
    lo: number;
    hi: number;
  };

export async function ping(sql: Sql, url: string) {
  try {
    await sql`select 1`;
  } catch (error) {
    throw describeDatabaseError(error, redactUrl(url)) ?? error;
  }
}

export async function importLegacy(options: ImportOptions): Promise<ImportOutcome> {
  const started = Date.now();
  const startedAt = performance.now();
  try {
    assertTimeZone(options.timeZone);
  } catch {
    throw misuse(`--time-zone ${options.timeZone}: not an IANA time zone (for example Asia/Shanghai)`);
  }
  const { db: legacy, file } = options.legacy;
  const connections = new Map<string, Sql>();
  try {
    const legacyRows = legacyCounts(legacy);
    const print = options.legacy.fingerprint;
    const sqlOf = (name: SubgraphName) => {
      const url = options.urls[name];
      if (!connections.has(url)) connections.set(url, connect(url));
      return connections.get(url)!;
    };
    const databases = [...new Set(Object.values(options.urls))];
    for (const url of databases)
      await ping(sqlOf((Object.keys(options.urls) as SubgraphName[]).find((n) => options.urls[n] === url)!), url);

    // Every target migrated; each database either holds this very import (resume) or nothing at all.
    let resumed = false;
    for (const url of databases) {
      const sql = connections.get(url)!;
      const names = (Object.keys(options.urls) as SubgraphName[]).filter((n) => options.urls[n] === url);
      const tables = names.flatMap((n) => TARGET_TABLES[n]);
      const missing = await tablesExist(sql, tables);
      if (missing.length > 0)
        throw new CliError(
          `${redactUrl(url)} is not migrated (${missing.join(', ')} missing): run \`stockgraph db migrate\` first`,
        );
      const run = await readRun(sql);
      if (run) {
        if (run.fingerprint !== print)
          throw new CliError(
            run.finishedAt
              ? `${redactUrl(url)} holds a finished import of ${run.file}, whose content differs from ${file}: ` +
                  'add --sync to bring it up to date with the changes, or import into empty services'
              : `${redactUrl(url)} holds an unfinished import of other content (${run.file}): ` +
                  'finish it with that very file, or import into empty services',
          );
        if (run.timeZone !== options.timeZone)
          throw misuse(`this import was started with --time-zone ${run.timeZone}; resume it with the same zone`);
        await ensureBookkeeping(sql);
        resumed = true;
      } else {
        const occupied = Object.entries(await rowsIn(sql, tables))
          .filter(([, n]) => n > 0)
          .map(([t]) => t);
        if (occupied.length > 0)
          throw new CliError(
            `${redactUrl(url)} is not empty (${occupied.join(', ')} hold rows); import into migrated, empty services`,
          );
        await ensureBookkeeping(sql);
        await startRun(sql, { fingerprint: print, file: resolve(file), timeZone: options.timeZone });
      }
    }
    // Foreign keys of the rows written here point at rows the import wrote before (or in the same
    // transaction); checking each of millions of references one by one would halve the rate. As
    // pg_restore --disable-triggers does, a superuser skips them; the verification checks the result.
    const bypassReferenceChecks = new Set<Sql>();
    for (const sql of connections.values()) if (await isSuperuser(sql)) bypassReferenceChecks.add(sql);
    const done = new Map<Sql, Set<string>>();
    for (const sql of connections.values()) done.set(sql, await doneSteps(sql));

    const planner = new Planner(legacy, options.timeZone, saltOf(print), options.legacy);
    const total = Object.values(legacyRows).reduce((a, b) => a + b, 0);
    const progress = options.output.progress('import', total);
    const written: Record<string, number> = {};
    const count = (table: string, n: number) => (written[table] = (written[table] ?? 0) + n);

    /** Runs one step's writes in one transaction with its "done" mark, unless an earlier run did it. */
    const step = async (
      service: SubgraphName,
      name: string,
      work: (tx: postgres.TransactionSql) => Promise<number>,
    ) => {
      const sql = sqlOf(service);
      if (done.get(sql)!.has(name)) return;
      // Wall time with at least one write running: orders and the ledger are written at once, and
      // summing both chains' times could exceed the import's own.
      if (writing++ === 0) writingSince = performance.now();
      try {
        await sql.begin(async (tx) => {
          if (bypassReferenceChecks.has(sql)) await skipReferenceChecks(tx);
          const rows = await work(tx);
          await markDone(tx, name, rows);
        });
      } finally {
        if (--writing === 0) writeMs += performance.now() - writingSince;
      }
    };
    let writeMs = 0;
    let writing = 0;
    let writingSince = 0;

    const phases: Record<string, number> = {};
    const phase = (name: string, since: number) => (phases[name] = Math.round(performance.now() - since) / 1000);
    phases['copy of the file (VACUUM INTO), checks'] = options.legacy.seconds;
    phase('open, checks', startedAt);
    let mark = performance.now();
    for (const [service, tables] of Object.entries(DEFERRED_INDEX_TABLES) as [SubgraphName, string[]][])
      await step(service, `defer-indexes:${service}`, async (tx) => (await deferIndexes(tx, tables)).length);
    phase('drop secondary indexes', mark);
    mark = performance.now();

    const users = planner.planUsers();
    await step('users', 'users', async (tx) => {
      await copyInto(tx, 'users.users', COLUMNS.users, lines(users, COLUMNS.users));
      await copyInto(tx, 'legacy_import.id_map', COLUMNS.idMap, unitLines(entityUnits('users', planner.users, users)));
      return count('users.users', users.length);
    });
    progress.increment(legacyRows.users);

    // Customers are planned before products (and written after them, as before): a placeholder product
    // is made only for a line whose order is imported, and an order needs its customer.
    const customers = planner.planCustomers();
    const catalog = planner.planProducts();
    await step('inventory', 'products', async (tx) => {
      await copyInto(tx, 'inventory.products', COLUMNS.products, lines(catalog.products, COLUMNS.products));
      await copyInto(tx, 'inventory.price_history', COLUMNS.priceHistory, lines(catalog.prices, COLUMNS.priceHistory));
      // Placeholders are kept apart from 'products' (PLACEHOLDER_ID_MAP): a placeholder is no legacy
      // product row imported, only the legacy id its order lines name.
      await copyInto(tx, 'legacy_import.id_map', COLUMNS.idMap, unitLines(productUnits(planner, catalog)));
      count('inventory.price_history', catalog.prices.length);
      return count('inventory.products', catalog.products.length);
    });
    // Orders keep their own copy of prices (normally fed by ProductCreated events).
    await step('orders', 'product_prices', async (tx) => {
      const rows = catalog.products.map((p) => ({
        product_id: p.id,
        unit_price: p.unit_price,
        updated_at: p.updated_at,
      }));
      await copyInto(tx, 'orders.product_prices', COLUMNS.productPrices, lines(rows, COLUMNS.productPrices));
      return count('orders.product_prices', rows.length);
    });
    progress.increment(legacyRows.products);

    await step('customers', 'customers', async (tx) => {
      await copyInto(tx, 'customers.customers', COLUMNS.customers, lines(customers, COLUMNS.customers));
      await copyInto(
        tx,
        'legacy_import.id_map',
        COLUMNS.idMap,
        unitLines(entityUnits('customers', planner.customers, customers)),
      );
      return count('customers.customers', customers.length);
    });
    await step('orders', 'known_customers', async (tx) => {
      const rows = customers.map((c) => ({ customer_id: c.id, created_at: c.created_at }));
      await copyInto(tx, 'orders.known_customers', COLUMNS.knownCustomers, lines(rows, COLUMNS.knownCustomers));
      return count('orders.known_customers', rows.length);
    });
    progress.increment(legacyRows.customers);
    phase('users, products, customers', mark);

    // Orders and the ledger are written over two connections at once, each chain one chunk at a time,
    // while this thread reads and maps the next chunks: SQLite, this thread and two PostgreSQL backends
    // work side by side (one after the other, the backend writing the ledger waited for the orders).
    const orderBounds = idRange(legacy, 'orders');
    const logBounds = idRange(legacy, 'inventory_log');
    const ordersSql = sqlOf('orders');
    const inventorySql = sqlOf('inventory');
    const orderWrites = writeChain();
    const ledgerWrites = writeChain();
    const writesStart = performance.now();
    const writeOrders = async (name: string, chunk: ReturnType<Planner['planOrders']>) => {
      if (!done.get(ordersSql)!.has(name)) {
        const months = new Set(chunk.orders.map((o) => monthOf(new Date(String(o.created_at)))));
        await ensurePartitions(ordersSql, 'orders', 'orders', months);
        await ensurePartitions(ordersSql, 'orders', 'order_items', months);
      }
      await step('orders', name, async (tx) => {
        await copyInto(tx, 'orders.orders', COLUMNS.orders, lines(chunk.orders, COLUMNS.orders));
        await copyInto(tx, 'orders.order_items', COLUMNS.items, lines(chunk.items, COLUMNS.items));
        await copyInto(tx, 'legacy_import.id_map', COLUMNS.idMap, unitLines(orderUnits(chunk)));
        count('orders.order_items', chunk.items.length);
        return count('orders.orders', chunk.orders.length);
      });
      progress.increment(chunk.rows);
    };
    const writeLedger = async (name: string, chunk: ReturnType<Planner['planLedger']>) => {
      if (!done.get(inventorySql)!.has(name)) {
        await ensurePartitions(
          inventorySql,
          'inventory',
          'stock_movements',
          new Set(chunk.movements.map((m) => monthOf(new Date(String(m.created_at))))),
        );
      }
      await step('inventory', name, async (tx) => {
        await copyInto(tx, 'inventory.stock_movements', COLUMNS.movements, lines(chunk.movements, COLUMNS.movements));
        const units = movementUnits('inventory_log', chunk.movements);
        await copyInto(tx, 'legacy_import.id_map', COLUMNS.idMap, unitLines(units));
        return count('inventory.stock_movements', chunk.movements.length);
      });
      progress.increment(chunk.rows);
    };
    const ordersNamed = latestOrderNamed(legacy);
    let nextLog = Math.min(logBounds.lo, 1);
    const planLedgerUpTo = async (plannedOrders: number) => {
      while (nextLog <= logBounds.hi) {
        const to = nextLog + options.chunkSize - 1;
        if (ordersNamed(nextLog, to) > plannedOrders) return;
        const chunk = await planInSlices(nextLog, to, (f, t) => planner.planLedger(f, t));
        const name = `ledger:${nextLog}`;
        nextLog = to + 1;
        await ledgerWrites.next(() => writeLedger(name, chunk));
      }
    };
    for (let from = Math.min(orderBounds.lo, 1); from <= orderBounds.hi; from += options.chunkSize) {
      const chunk = await planInSlices(from, from + options.chunkSize - 1, (f, t) => planner.planOrders(f, t));
      const name = `orders:${from}`;
      await orderWrites.next(() => writeOrders(name, chunk));
      await planLedgerUpTo(from + options.chunkSize - 1);
    }
    const ordersWritten = orderWrites.drain().then(() => phase('orders', writesStart));
    // Awaited after the ledger; until then a failure must not surface as an unhandled rejection.
    ordersWritten.catch(() => {});
    progress.increment(planner.planStrayItems(orderBounds.hi));
    await planLedgerUpTo(Number.POSITIVE_INFINITY);
    await ledgerWrites.drain();
    const reconciliation = planner.planReconciliation();
    if (!done.get(inventorySql)!.has('reconciliation')) {
      await ensurePartitions(
        inventorySql,
        'inventory',
        'stock_movements',
        new Set(reconciliation.map((m) => monthOf(new Date(String(m.created_at))))),
      );
    }
    await step('inventory', 'reconciliation', async (tx) => {
      await copyInto(tx, 'inventory.stock_movements', COLUMNS.movements, lines(reconciliation, COLUMNS.movements));
      const units = movementUnits(RECONCILIATION_ID_MAP, reconciliation);
      await copyInto(tx, 'legacy_import.id_map', COLUMNS.idMap, unitLines(units));
      return count('inventory.stock_movements', reconciliation.length);
    });
    phase('ledger', writesStart);
    await ordersWritten;
    progress.stop();
    mark = performance.now();
    // Two independent recomputations, one per service: side by side they use both cores. Before the
    // deferred indexes: they need none of them, and the daily rollup they fill gets its own afterwards.
    await Promise.all(
      (['orders', 'inventory'] as const).map((service) =>
        step(service, `aggregates:${service}`, async (tx) => {
          await rebuildImportedAggregates(tx, service);
          return 0;
        }),
      ),
    );
    phase('aggregates', mark);
    mark = performance.now();
    for (const sql of connections.values()) await rebuildDeferredIndexes(sql);
    phase('indexes', mark);
    for (const sql of connections.values()) await finishRun(sql);
    const seconds = (Date.now() - started) / 1000 + options.legacy.seconds;
    const writeSeconds = Math.round(writeMs) / 1000;
    return {
      file,
      timeZone: options.timeZone,
      resumed,
      legacyRows,
      written,
      seconds,
      writeSeconds,
      rowsPerSecond: Math.round(total / seconds),
      phases,
      planner,
    };
  } finally {
    await Promise.all([...connections.values()].map((sql) => sql.end({ timeout: 5 })));
  }
}

/** Legacy ids planned between two turns of the event loop. */
export const PLAN_SLICE = 1_000;

/**
 * The highest legacy order id the log rows [from, to] name (ref_order_id). A log row carries its
 * order's new id, so a chunk of the ledger is planned once every order it names has been. The legacy
 * application writes both as it goes, so the ledger follows the orders closely; a chunk naming an id
 * that is not a number waits for the last order.
 */
export function latestOrderNamed(legacy: SqliteDatabase): (from: number, to: number) => number {
  const statement = legacy.prepare('select max(ref_order_id) as ref from inventory_log where id between ? and ?');
  return (from, to) => {
    const { ref } = statement.get(from, to) as { ref: unknown };
    return ref === null ? 0 : typeof ref === 'number' ? ref : Number.POSITIVE_INFINITY;
  };
}

/**
 * Plans the ids [from, to] in slices, letting the event loop turn between them. Planning is
 * synchronous; the chunks being written meanwhile need this thread for each of their round trips
 * (begin, each COPY, the done mark, commit), so a chunk planned in one go left PostgreSQL waiting for
 * its whole length and planning and writing took turns instead of running side by side.
 */
async function planInSlices<Chunk extends { rows: number }>(
  from: number,
  to: number,
  plan: (from: number, to: number) => Chunk,
): Promise<Chunk> {
  let chunk: Chunk | undefined;
  for (let first = from; first <= to; first += PLAN_SLICE) {
    const part = plan(first, Math.min(to, first + PLAN_SLICE - 1));
    if (!chunk) chunk = part;
    else
      for (const [key, value] of Object.entries(part) as [keyof Chunk, unknown][]) {
        if (Array.isArray(value)) (chunk[key] as unknown[]).push(...value);
      }
    if (chunk !== part) chunk.rows += part.rows;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return chunk ?? plan(from, to);
}

/**
 * Writes one chunk at a time over one connection while the caller plans the next: `next` waits for
 * the chunk being written, then starts this one. A failed write surfaces at the next `next` or `drain`.
 */
function writeChain() {
  let pending: Promise<void> = Promise.resolve();
  return {
    async next(write: () => Promise<void>) {
      await pending;
      pending = write();
      pending.catch(() => {});
    },
    drain: () => pending,
  };
}

/** The 24 bits of the first run's fingerprint that every id of an import carries (mapping.ts legacyUuid). */
export const saltOf = (fingerprint: string) => Buffer.from(fingerprint, 'hex').subarray(0, 3);

export interface ReplannedImport {
  file: string;
  timeZone: string;
  legacyRows: Record<LegacyTable, number>;
  /** The decisions of the import, made again: the same file and zone decide the same. */
  planner: Planner;
  seconds: number;
}

/** One step's planned rows, as importLegacy writes them. */
export type PlannedStep =
  | { step: 'users'; rows: Row[] }
  | { step: 'customers'; rows: Row[] }
  | { step: 'catalog'; catalog: { products: Row[]; prices: Row[] } }
  | { step: 'orders'; chunk: { orders: Row[]; items: Row[] } }
  | { step: 'ledger'; movements: Row[] }
  | { step: 'reconciliation'; movements: Row[] };

/**
 * Every decision of an import made again, in importLegacy's order (each step's decisions rest on the
 * earlier ones), each step's rows handed to `visit`.
 */
export function planAll(
  planner: Planner,
  legacy: SqliteDatabase,
  visit: (planned: PlannedStep) => void = () => {},
): void {
  visit({ step: 'users', rows: planner.planUsers() });
  visit({ step: 'customers', rows: planner.planCustomers() });
  visit({ step: 'catalog', catalog: planner.planProducts() });
  // In slices, not in the import's transactions: the rows of one slice are garbage once visited. Planned
  // 10,000 orders at a time, a sync's 353 young-generation collections each kept a chunk's rows alive
  // and took 30 ms (11 s in all at a million orders); the decisions are the same for any slicing.
  const orders = idRange(legacy, 'orders');
  for (let from = Math.min(orders.lo, 1); from <= orders.hi; from += PLAN_SLICE)
    visit({ step: 'orders', chunk: planner.planOrders(from, from + PLAN_SLICE - 1) });
  planner.planStrayItems(orders.hi);
  const log = idRange(legacy, 'inventory_log');
  for (let from = Math.min(log.lo, 1); from <= log.hi; from += PLAN_SLICE)
    visit({ step: 'ledger', movements: planner.planLedger(from, from + PLAN_SLICE - 1).movements });
  visit({ step: 'reconciliation', movements: planner.planReconciliation() });
}

/** The run the targets hold, checked: finished, one time zone; the fingerprints it accepts as its file. */
export async function finishedRun(
  connections: { sql: Sql; url: string }[],
  file: string,
): Promise<{ file: string; timeZone: string; fingerprint: string; syncedFingerprint: string | null }> {
  const runs = [];
  for (const { sql, url } of connections) {
    await ping(sql, url);
    const run = await readRun(sql);
    if (!run) throw misuse(`${redactUrl(url)} was never imported into: run \`stockgraph import sqlite ${file}\` first`);
    if (!run.finishedAt)
      throw misuse(
        `${redactUrl(url)} holds an unfinished import of ${run.file}: run \`stockgraph import sqlite\` again to finish it`,
      );
    runs.push(run);
  }
  const zones = new Set(runs.map((r) => r.timeZone));
  const prints = new Set(runs.map((r) => r.fingerprint));
  if (zones.size !== 1 || prints.size !== 1) throw new CliError('the targets hold different imports');
  const syncs = new Set(runs.map((r) => r.syncedFingerprint));
  return {
    file: runs[0]!.file,
    timeZone: runs[0]!.timeZone,
    fingerprint: runs[0]!.fingerprint,
    syncedFingerprint: syncs.size === 1 ? runs[0]!.syncedFingerprint : null,
  };
}

/**
 * `stockgraph import verify`: the import's decisions made again from the file alone (they depend only
 * on the file and the zone the import recorded), for targets whose finished import (or last sync) is
 * of this very content; anything else is misuse. Nothing is written.
 */
export async function replanImport(options: {
  legacy: LegacySnapshot;
  urls: Record<SubgraphName, string>;
}): Promise<ReplannedImport> {
  const started = performance.now();
  const { db: legacy, file, fingerprint: print } = options.legacy;
  const connections = [...new Set(Object.values(options.urls))].map((url) => ({ url, sql: connect(url) }));
  try {
    const run = await finishedRun(connections, file);
    if (run.fingerprint !== print && run.syncedFingerprint !== print)
      throw misuse(
        `the targets hold an import of other content than ${file} (it changed since: \`stockgraph import sqlite ${file} --sync\` brings them up to date)`,
      );
    const planner = new Planner(legacy, run.timeZone, saltOf(run.fingerprint), options.legacy);
    planAll(planner, legacy);
    return {
      file,
      timeZone: run.timeZone,
      legacyRows: legacyCounts(legacy),
      planner,
      seconds: Math.round(performance.now() - started) / 1000,
    };
  } finally {
    await Promise.all(connections.map(({ sql }) => sql.end({ timeout: 5 })));
  }
}
