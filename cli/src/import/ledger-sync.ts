/**
 * A sync's ledger, planned and compared in a worker thread while the main thread plans the orders.
 * Planning is JavaScript on one core while PostgreSQL waits; the ledger (its log rows, their digests and
 * the 2.2 million stored units of a million-order store) was about a third of it, and the second core sat
 * idle. The worker has its own connection to the snapshot and to the inventory database, and a planner
 * of its own that takes the catalogue's decisions and then each slice of orders' new ids as the main
 * thread plans them: a log row names its order and carries that order's new id.
 */
import type { MessagePort } from 'node:worker_threads';
import { connect, storedUnits } from '../db/import.repository.js';
import type { UnreadableRow } from '../legacy/snapshot.js';
import { openSqlite } from '../legacy/sqlite.js';
import { idRange, latestOrderNamed, PLAN_SLICE, saltOf } from './importer.js';
import { Planner, type ProductTarget, type QuarantineEntry, type Row } from './plan.js';
import { firstMessage, startWorker } from './worker.js';
import { compareUnit, emptyChanges, goneUnits, movementUnits, type Changes } from './units.js';

export interface LedgerSyncInput {
  /** The snapshot's file (the main thread's planner keeps it open too). */
  snapshot: string;
  timeZone: string;
  fingerprint: string;
  /** The inventory database, whose id map holds the log rows' stored units. */
  url: string;
  unreadable: UnreadableRow[];
  products: [number, ProductTarget][];
  quarantinedProducts: number[];
}

/** From the main thread: the orders of one slice (legacy id, new id), every order up to `upTo` planned. */
type OrdersPlanned = { orders: [number, string][]; upTo: number } | { end: true };

export interface LedgerSyncResult {
  changes: Changes;
  /** The movements of the units to write. */
  movements: Row[];
  /** Units stored before the sync. */
  stored: number;
  quarantine: QuarantineEntry[];
  /** Sum of imported log changes per surviving legacy product (Planner.logged). */
  logged: [number, number][];
  /** Legacy log rows read. */
  rows: number;
}

/** Runs in the worker: plans as the orders arrive, compares, and posts the result once told the orders are done. */
export async function runLedgerSync(input: LedgerSyncInput, port: MessagePort): Promise<void> {
  const received: OrdersPlanned[] = [];
  let wake = () => {};
  port.on('message', (message: OrdersPlanned) => {
    received.push(message);
    wake();
  });
  const legacy = openSqlite(input.snapshot, { readOnly: true });
  const sql = connect(input.url);
  try {
    const stored = (await storedUnits(sql, ['inventory_log'])).get('inventory_log')!;
    const storedCount = stored.size;
    const planner = new Planner(legacy, input.timeZone, saltOf(input.fingerprint), {
      unreadable: input.unreadable,
      rewritten: [],
    });
    planner.adoptCatalog(input.products, input.quarantinedProducts);
    const changes = emptyChanges();
    const movements: Row[] = [];
    const log = idRange(legacy, 'inventory_log');
    const ordersNamed = latestOrderNamed(legacy);
    let next = Math.min(log.lo, 1);
    let rows = 0;
    let plannedOrders = 0;
    for (;;) {
      while (received.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const message = received.shift()!;
      if ('end' in message) plannedOrders = Number.POSITIVE_INFINITY;
      else {
        for (const [legacyId, newId] of message.orders) planner.orders.set(legacyId, newId);
        plannedOrders = message.upTo;
      }
      while (next <= log.hi && ordersNamed(next, next + PLAN_SLICE - 1) <= plannedOrders) {
        const slice = planner.planLedger(next, next + PLAN_SLICE - 1);
        rows += slice.rows;
        const written = new Set<string>();
        for (const unit of movementUnits('inventory_log', slice.movements))
          if (compareUnit(unit, stored, changes)) written.add(unit.newId);
        for (const movement of slice.movements) if (written.has(String(movement.id))) movements.push(movement);
        next += PLAN_SLICE;
      }
      if ('end' in message) break;
    }
    goneUnits(stored, changes);
    const result: LedgerSyncResult = {
      changes,
      movements,
      stored: storedCount,
      quarantine: planner.quarantine,
      logged: [...planner.logged],
      rows,
    };
    port.postMessage(result);
  } finally {
    legacy.close();
    await sql.end({ timeout: 5 });
  }
}

/** The main thread's side: hand it the orders as they are planned, then wait for the ledger. */
export function startLedgerSync(input: LedgerSyncInput) {
  const worker = startWorker(new URL('./ledger-sync.worker.ts', import.meta.url), input);
  const result = firstMessage<LedgerSyncResult>(worker, "the sync's ledger");
  // Awaited by finish(); until then a failure must not surface as an unhandled rejection.
  result.catch(() => {});
  return {
    ordersPlanned(orders: Row[], upTo: number) {
      worker.postMessage({
        orders: orders.map((o): [number, string] => [Number(o.legacy_id), String(o.id)]),
        upTo,
      } satisfies OrdersPlanned);
    },
    async finish(): Promise<LedgerSyncResult> {
      worker.postMessage({ end: true } satisfies OrdersPlanned);
      return result;
    },
    stop: () => worker.terminate(),
  };
}
