/**
 * `stockgraph import sqlite <file> --sync`: brings a finished import up to date with its legacy file
 * while the old application keeps taking orders. The changed file is planned again with the first
 * run's ids and zone, so every legacy row becomes exactly what a fresh import of today's file would
 * make of it; a unit (a legacy row and the rows it became, import/units.ts) is written only when its
 * digest differs from the one stored, is new, or is gone (deleted from the file, or quarantined now).
 * Each target database takes its changes in one transaction: a failed sync leaves it as it was, and
 * running it again converges.
 */
import {
  connect,
  deleteRows,
  ensureBookkeeping,
  ensurePartitions,
  forgetUnits,
  markSynced,
  monthOf,
  storedUnits,
  upsertRows,
  copyInto,
  type StoredUnit,
  type Sql,
  type Tx,
} from '../db/import.repository.js';
import { CliError } from '../errors.js';
import { legacyCounts } from '../legacy/reader.js';
import type { LegacySnapshot } from '../legacy/snapshot.js';
import type { Output } from '../output.js';
import type { SubgraphName } from '../targets.js';
import {
  COLUMNS,
  finishedRun,
  idRange,
  lines,
  PLAN_SLICE,
  saltOf,
  unitLines,
  type ImportOutcome,
  type PlannedStep,
} from './importer.js';
import { startLedgerSync } from './ledger-sync.js';
import { PLACEHOLDER_ID_MAP } from './mapping.js';
import { Planner, type Row } from './plan.js';
import {
  compareUnit,
  emptyChanges,
  entityUnits,
  goneUnits,
  movementUnits,
  orderUnits,
  productUnits,
  RECONCILIATION_ID_MAP,
  type Changes,
  type Unit,
  type UnitTable,
} from './units.js';

export interface SyncOptions {
  legacy: LegacySnapshot;
  urls: Record<SubgraphName, string>;
  output: Output;
}

/**
 * The unit tables each service's database keeps in its id map, read here; the log rows' ('inventory_log')
 * are read, planned and compared by the ledger's worker (ledger-sync.ts).
 */
const UNIT_TABLES: Record<SubgraphName, UnitTable[]> = {
  users: ['users'],
  customers: ['customers'],
  inventory: ['products', PLACEHOLDER_ID_MAP, RECONCILIATION_ID_MAP],
  orders: ['orders'],
};

/**
 * A sync refuses a file in which fewer of the imported rows are still there under the same id than
 * this: it is another store, and syncing would replace most of what was imported. (An id is computed
 * from the row's legacy id and creation time: the same store keeps them however its rows change.)
 */
const MIN_KEPT_SHARE = 0.5;

export async function syncLegacy(options: SyncOptions): Promise<ImportOutcome> {
  const started = performance.now();
  const { db: legacy, file, fingerprint } = options.legacy;
  const services = Object.keys(options.urls) as SubgraphName[];
  const connections = new Map<string, Sql>();
  for (const url of new Set(Object.values(options.urls))) connections.set(url, connect(url));
  const sqlOf = (service: SubgraphName) => connections.get(options.urls[service])!;
  const phases: Record<string, number> = { 'copy of the file (VACUUM INTO), checks': options.legacy.seconds };
  let mark = performance.now();
  const phase = (name: string) => {
    phases[name] = Math.round(performance.now() - mark) / 1000;
    mark = performance.now();
  };
  try {
    const run = await finishedRun(
      [...connections].map(([url, sql]) => ({ url, sql })),
      file,
    );
    for (const sql of connections.values()) await ensureBookkeeping(sql);
    const stored = new Map<UnitTable, Map<number, StoredUnit>>();
    for (const service of services)
      for (const [table, units] of await storedUnits(sqlOf(service), UNIT_TABLES[service]))
        stored.set(table as UnitTable, units);
    phase('stored digests read');

    // Plan the whole file again; keep only the rows of units that are new or changed.
    const changes = new Map<UnitTable, Changes>();
    const storedHere = [...stored.values()].reduce((n, units) => n + units.size, 0);
    /**
     * Every new id planned of the tables updated in place (users, customers, products): such a row
     * still planned is updated, never deleted. (Orders and movements are deleted and written again.)
     */
    const plannedIds = new Set<string>();
    const IN_PLACE = new Set<UnitTable>(['users', 'customers', 'products', PLACEHOLDER_ID_MAP]);
    const rows = {
      users: [] as Row[],
      customers: [] as Row[],
      products: [] as Row[],
      prices: [] as Row[],
      orders: [] as Row[],
      items: [] as Row[],
      movements: [] as Row[],
    };
    /** The units of one step that differ from what is stored; their new ids. */
    const compare = (units: Unit[]): Set<string> => {
      const written = new Set<string>();
      for (const unit of units) {
        const table = changes.get(unit.table) ?? emptyChanges();
        changes.set(unit.table, table);
        if (IN_PLACE.has(unit.table)) plannedIds.add(unit.newId);
        if (compareUnit(unit, stored.get(unit.table), table)) written.add(unit.newId);
      }
      return written;
    };
    const planner = new Planner(legacy, run.timeZone, saltOf(run.fingerprint), options.legacy);
    const legacyRows = legacyCounts(legacy);
    const total = Object.values(legacyRows).reduce((a, b) => a + b, 0);
    const progress = options.output.progress('planning', total);
    /**
     * Appends the planned rows whose `column` names a written unit. A loop, not push(...rows): the
     * first sync of an import made before digests writes every customer, more than a call takes.
     */
    const keep = (into: Row[], planned: Row[], column: string, ids: Set<string>) => {
      for (const row of planned) if (ids.has(String(row[column]))) into.push(row);
    };
    const visit = (planned: PlannedStep) => {
      switch (planned.step) {
        case 'users': {
          const ids = compare(entityUnits('users', planner.users, planned.rows));
          keep(rows.users, planned.rows, 'id', ids);
          progress.increment(planned.rows.length);
          break;
        }
        case 'customers': {
          const ids = compare(entityUnits('customers', planner.customers, planned.rows));
          keep(rows.customers, planned.rows, 'id', ids);
          progress.increment(planned.rows.length);
          break;
        }
        case 'catalog': {
          const ids = compare(productUnits(planner, planned.catalog));
          keep(rows.products, planned.catalog.products, 'id', ids);
          keep(rows.prices, planned.catalog.prices, 'product_id', ids);
          progress.increment(planned.catalog.products.length);
          break;
        }
        case 'orders': {
          const ids = compare(orderUnits(planned.chunk));
          keep(rows.orders, planned.chunk.orders, 'id', ids);
          keep(rows.items, planned.chunk.items, 'order_id', ids);
          progress.increment(planned.chunk.orders.length + planned.chunk.items.length);
          break;
        }
        // The ledger is compared in its worker (ledger-sync.ts); only the reconciliation comes here.
        case 'ledger':
          throw new Error('the sync compares the ledger in its worker');
        case 'reconciliation': {
          const ids = compare(movementUnits(RECONCILIATION_ID_MAP, planned.movements));
          keep(rows.movements, planned.movements, 'id', ids);
          progress.increment(planned.movements.length);
          break;
        }
      }
    };
    visit({ step: 'users', rows: planner.planUsers() });
    visit({ step: 'customers', rows: planner.planCustomers() });
    visit({ step: 'catalog', catalog: planner.planProducts() });
    // The ledger is planned and compared beside the orders, in a worker with the catalogue's decisions
    // and each slice's order ids; its log rows' units and quarantine entries come back at the end.
    const ledger = startLedgerSync({
      snapshot: legacy.location()!,
      timeZone: run.timeZone,
      fingerprint: run.fingerprint,
      url: options.urls.inventory,
      unreadable: options.legacy.unreadable.filter((row) => row.table === 'inventory_log'),
      products: [...planner.products],
      quarantinedProducts: planner.quarantinedProducts(),
    });
    let ledgerStored = 0;
    try {
      const orders = idRange(legacy, 'orders');
      for (let from = Math.min(orders.lo, 1); from <= orders.hi; from += PLAN_SLICE) {
        const chunk = planner.planOrders(from, from + PLAN_SLICE - 1);
        visit({ step: 'orders', chunk });
        ledger.ordersPlanned(chunk.orders, from + PLAN_SLICE - 1);
      }
      planner.planStrayItems(orders.hi);
      const result = await ledger.finish();
      for (const entry of result.quarantine) planner.quarantine.push(entry);
      for (const [product, change] of result.logged) planner.logged.set(product, change);
      changes.set('inventory_log', result.changes);
      for (const movement of result.movements) rows.movements.push(movement);
      ledgerStored = result.stored;
      progress.increment(result.rows);
    } finally {
      await ledger.stop();
    }
    visit({ step: 'reconciliation', movements: planner.planReconciliation() });
    progress.stop();
    // What is stored and was not planned again is gone from the file (or quarantined now).
    let keptTotal = changes.get('inventory_log')!.kept;
    for (const [table, left] of stored) {
      const entry = changes.get(table) ?? emptyChanges();
      changes.set(table, entry);
      goneUnits(left, entry);
      keptTotal += entry.kept;
    }
    phase('planned and compared');
    const storedTotal = storedHere + ledgerStored;
    if (storedTotal > 0 && keptTotal / storedTotal < MIN_KEPT_SHARE)
      throw new CliError(
        `${file}: only ${keptTotal} of the ${storedTotal} imported rows are in it; it is not the store that was imported ` +
          `(${run.file}) as it went on, so --sync refuses it (import another store into empty services)`,
      );

    const changed = (table: UnitTable) => changes.get(table) ?? emptyChanges();
    const removed = (...tables: UnitTable[]) => tables.flatMap((t) => changed(t).remove);
    /** Rows of these tables that no unit holds any more (users, customers and products are updated in place). */
    const orphaned = (...tables: UnitTable[]) => [...new Set(removed(...tables))].filter((id) => !plannedIds.has(id));
    const written: Record<string, number> = {};
    const count = (table: string, n: number) => n > 0 && (written[table] = (written[table] ?? 0) + n);

    /** Writes the units' id map entries and forgets the gone ones. */
    const remember = async (tx: Tx, ...tables: UnitTable[]) => {
      for (const table of tables) {
        const entry = changed(table);
        await forgetUnits(tx, table, entry.gone);
        await upsertRows(
          tx,
          'legacy_import.id_map',
          COLUMNS.idMap,
          ['legacy_table', 'legacy_id'],
          unitLines(entry.write),
        );
      }
    };
    /** A table whose rows are updated in place: what no unit holds any more is deleted, the rest upserted. */
    const replaceInPlace = async (tx: Tx, unit: UnitTable, table: string, planned: Row[], columns: string[]) => {
      count(`${table} (removed)`, await deleteRows(tx, table, 'id', orphaned(unit)));
      await upsertRows(tx, table, columns, ['id'], lines(planned, columns));
      count(table, planned.length);
      await remember(tx, unit);
    };
    const work: Record<SubgraphName, (tx: Tx) => Promise<void>> = {
      users: (tx) => replaceInPlace(tx, 'users', 'users.users', rows.users, COLUMNS.users),
      customers: (tx) => replaceInPlace(tx, 'customers', 'customers.customers', rows.customers, COLUMNS.customers),
      inventory: async (tx) => {
        // The ledger first: a product that is gone loses its movements before it goes.
        const movements = removed('inventory_log', RECONCILIATION_ID_MAP);
        count(
          'inventory.stock_movements (removed)',
          await deleteRows(tx, 'inventory.stock_movements', 'id', movements),
        );
        const products = orphaned('products', PLACEHOLDER_ID_MAP);
        await upsertRows(tx, 'inventory.products', COLUMNS.products, ['id'], lines(rows.products, COLUMNS.products));
        await upsertRows(
          tx,
          'inventory.price_history',
          COLUMNS.priceHistory,
          ['id'],
          lines(rows.prices, COLUMNS.priceHistory),
        );
        await deleteRows(tx, 'inventory.price_history', 'product_id', products);
        count('inventory.products (removed)', await deleteRows(tx, 'inventory.products', 'id', products));
        count('inventory.products', rows.products.length);
        await ensurePartitions(tx, 'inventory', 'stock_movements', monthsOf(rows.movements));
        await copyInto(tx, 'inventory.stock_movements', COLUMNS.movements, lines(rows.movements, COLUMNS.movements));
        count('inventory.stock_movements', rows.movements.length);
        await remember(tx, 'products', PLACEHOLDER_ID_MAP, 'inventory_log', RECONCILIATION_ID_MAP);
      },
      orders: async (tx) => {
        // An order that changed is written again whole. Its lines are deleted here, not by the foreign
        // key's cascade, which a superuser's sync skips with the other triggers.
        await deleteRows(tx, 'orders.order_items', 'order_id', removed('orders'));
        count('orders.orders (removed)', await deleteRows(tx, 'orders.orders', 'id', removed('orders')));
        await ensurePartitions(tx, 'orders', 'orders', monthsOf(rows.orders));
        await ensurePartitions(tx, 'orders', 'order_items', monthsOf(rows.orders));
        await copyInto(tx, 'orders.orders', COLUMNS.orders, lines(rows.orders, COLUMNS.orders));
        await copyInto(tx, 'orders.order_items', COLUMNS.items, lines(rows.items, COLUMNS.items));
        count('orders.orders', rows.orders.length);
        count('orders.order_items', rows.items.length);
        // The orders service's own copies of prices and customers follow the products and customers.
        const prices = rows.products.map((p) => ({
          product_id: p.id,
          unit_price: p.unit_price,
          updated_at: p.updated_at,
        }));
        await deleteRows(tx, 'orders.product_prices', 'product_id', orphaned('products', PLACEHOLDER_ID_MAP));
        await upsertRows(
          tx,
          'orders.product_prices',
          COLUMNS.productPrices,
          ['product_id'],
          lines(prices, COLUMNS.productPrices),
        );
        const known = rows.customers.map((c) => ({ customer_id: c.id, created_at: c.created_at }));
        await deleteRows(tx, 'orders.known_customers', 'customer_id', orphaned('customers'));
        await upsertRows(
          tx,
          'orders.known_customers',
          COLUMNS.knownCustomers,
          ['customer_id'],
          lines(known, COLUMNS.knownCustomers),
        );
        await remember(tx, 'orders');
      },
    };
    for (const [url, sql] of connections) {
      const here = services.filter((s) => options.urls[s] === url);
      await sql.begin(async (tx) => {
        // Unlike the import, every trigger fires: a sync writes a few rows, so the foreign keys are
        // checked and the counters and rollups kept row by row, in this transaction, instead of being
        // recomputed over millions of rows (23 s at a million orders).
        for (const service of ['users', 'customers', 'inventory', 'orders'] as const)
          if (here.includes(service)) await work[service](tx);
        await markSynced(tx, fingerprint);
      });
    }
    phase('written');
    const seconds = (performance.now() - started) / 1000 + options.legacy.seconds;
    return {
      file,
      timeZone: run.timeZone,
      resumed: false,
      legacyRows,
      written,
      seconds,
      writeSeconds: phases.written ?? 0,
      rowsPerSecond: Math.round(total / seconds),
      phases,
      planner,
    };
  } finally {
    await Promise.all([...connections.values()].map((sql) => sql.end({ timeout: 5 })));
  }
}

const monthsOf = (rows: Row[]) => new Set(rows.map((r) => monthOf(new Date(String(r.created_at)))));
