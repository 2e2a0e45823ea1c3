import type { Database } from '@stockgraph/db';
import { checkAggregates } from './db/aggregates.repository.js';
import {
  confirmedLines,
  copiedPrices,
  currentPrices,
  customerIds,
  knownCustomers,
  lateOutboxRows,
  NAMED_ROWS,
  orderStates,
  overduePending,
  reservedColumnDrift,
  reservedItems,
} from './db/invariants.repository.js';
import { withSubgraphDatabases } from './databases.js';

type Db = Database<Record<string, unknown>>;

export interface InvariantOptions {
  /** Rows changed this recently belong to a saga still moving (an order being placed, a price on its way). */
  graceSeconds: number;
  /** An order PENDING longer than this is stuck (the saga retries every SAGA_RETRY_MS, 30 s by default). */
  pendingDeadlineSeconds: number;
  /** An outbox row not published this long after it was written is late. */
  outboxBoundSeconds: number;
}

export interface Violation {
  /** What is wrong: an order, a product, an outbox row. */
  key: string;
  detail: string;
}

export interface InvariantResult {
  name: InvariantName;
  /** The promise, in a sentence. */
  holds: string;
  ok: boolean;
  /** Every violation found; `violations` names at most NAMED_ROWS of them. */
  count: number;
  violations: Violation[];
}

/** Every cross-service invariant the saga promises, by the name the metric and the alert carry. */
export const INVARIANTS = {
  reservations:
    "inventory holds reserved exactly the lines of each CONFIRMED order, and a product's reserved units are the sum of its reservations",
  'price-copies': "the orders service's copy of every price equals inventory's",
  'customer-copies': 'the orders service knows exactly the customers the customers service holds',
  outbox: 'every event is published within the bound of being written',
  'pending-orders': 'no order stays PENDING past its deadline',
  ledger: "every product's stock columns equal the sums of its ledger",
  aggregates: 'every counter and rollup equals a recount of its rows',
} as const;

export type InvariantName = keyof typeof INVARIANTS;

const result = (name: InvariantName, violations: Violation[], count = violations.length): InvariantResult => ({
  name,
  holds: INVARIANTS[name],
  ok: count === 0,
  count,
  violations: violations.slice(0, NAMED_ROWS),
});

type Lines = Map<string, Map<string, number>>;

function byOrder(rows: { orderId: string; productId: string; quantity: number }[]): Lines {
  const orders: Lines = new Map();
  for (const { orderId, productId, quantity } of rows) {
    const lines = orders.get(orderId) ?? new Map<string, number>();
    lines.set(productId, (lines.get(productId) ?? 0) + quantity);
    orders.set(orderId, lines);
  }
  return orders;
}

const describe = (lines: Map<string, number> | undefined) =>
  lines ? [...lines].map(([product, units]) => `${units} × ${product}`).join(', ') : 'nothing';

const same = (a: Map<string, number>, b: Map<string, number>) =>
  a.size === b.size && [...a].every(([product, units]) => b.get(product) === units);

async function reservations(inventory: Db, orders: Db, options: InvariantOptions): Promise<InvariantResult> {
  const violations: Violation[] = (await reservedColumnDrift(inventory)).map((d) => ({ ...d }));
  const held = await reservedItems(inventory, options.graceSeconds);
  const reserved = byOrder(held);
  const recentReservation = new Set(held.filter((r) => r.recent).map((r) => r.orderId));
  const confirmed = byOrder(await confirmedLines(orders));
  const differing = [...new Set([...reserved.keys(), ...confirmed.keys()])].filter((id) => {
    const [a, b] = [reserved.get(id), confirmed.get(id)];
    return !a || !b || !same(a, b);
  });
  const states = await orderStates(orders, differing, options.graceSeconds);
  for (const id of differing) {
    const state = states.get(id);
    const [holds, lines] = [reserved.get(id), confirmed.get(id)];
    // A saga still moving: placed and not yet confirmed, or changed (cancelled, fulfilled) just now.
    if (state?.recent || recentReservation.has(id) || (state?.status === 'PENDING' && !lines)) continue;
    const order = `order ${id}`;
    if (!holds) violations.push({ key: order, detail: `CONFIRMED with ${describe(lines)}; inventory holds nothing` });
    else if (!lines)
      violations.push({
        key: order,
        detail: `inventory holds ${describe(holds)} reserved; the order is ${state?.status ?? 'unknown to the orders service'}`,
      });
    else
      violations.push({ key: order, detail: `CONFIRMED with ${describe(lines)}; inventory holds ${describe(holds)}` });
  }
  return result('reservations', violations);
}

async function priceCopies(inventory: Db, orders: Db, options: InvariantOptions): Promise<InvariantResult> {
  const prices = await currentPrices(inventory, options.graceSeconds);
  const copies = await copiedPrices(orders);
  const violations: Violation[] = [];
  for (const [id, { sku, unitPrice, recent }] of prices) {
    const copy = copies.get(id);
    if (recent || copy === unitPrice) continue;
    violations.push({
      key: `product ${sku} (${id})`,
      detail:
        copy === undefined
          ? `priced ${unitPrice}; orders has no price for it`
          : `priced ${unitPrice}; orders has ${copy}`,
    });
  }
  for (const id of copies.keys())
    if (!prices.has(id))
      violations.push({ key: `product ${id}`, detail: 'priced by orders; inventory has no such product' });
  return result('price-copies', violations);
}

async function customerCopies(customers: Db, orders: Db, options: InvariantOptions): Promise<InvariantResult> {
  const held = await customerIds(customers, options.graceSeconds);
  const { known, ordered } = await knownCustomers(orders);
  const violations: Violation[] = [];
  for (const [id, recent] of held)
    if (!recent && !known.has(id))
      violations.push({
        key: `customer ${id}`,
        detail: 'held by customers; unknown to orders (its orders would be refused)',
      });
  for (const id of known)
    if (!held.has(id))
      violations.push({ key: `customer ${id}`, detail: 'known to orders; the customers service has no such customer' });
  for (const id of ordered)
    if (!held.has(id) && !known.has(id))
      violations.push({ key: `customer ${id}`, detail: 'has orders; the customers service has no such customer' });
  return result('customer-copies', violations);
}

async function outbox(databases: [string, Db][], options: InvariantOptions): Promise<InvariantResult> {
  let count = 0;
  const violations: Violation[] = [];
  for (const [schema, db] of databases) {
    const late = await lateOutboxRows(db, schema, options.outboxBoundSeconds);
    count += late.count;
    violations.push(...late.rows);
  }
  return result('outbox', violations, count);
}

/**
 * Runs every invariant against the services' databases (as `db migrate` finds them) and reports each,
 * violations named. Each check reads its own moment; rows within the grace period are a saga in motion.
 */
export async function checkInvariants(
  options: InvariantOptions,
  ledgerMismatches: (
    db: Db,
  ) => Promise<
    { productId: string; sku: string; onHand: number; reserved: number; ledgerOnHand: number; ledgerReserved: number }[]
  >,
): Promise<InvariantResult[]> {
  return withSubgraphDatabases(['inventory', 'orders', 'customers'], async (databases) => {
    const inventory = databases.get('inventory')!.db;
    const orders = databases.get('orders')!.db;
    const customers = databases.get('customers')!.db;
    const pending = await overduePending(orders, options.pendingDeadlineSeconds);
    const ledger = await ledgerMismatches(inventory);
    const aggregates = [
      ...(await checkAggregates(orders, 'orders')),
      ...(await checkAggregates(inventory, 'inventory')),
    ];
    return [
      await reservations(inventory, orders, options),
      await priceCopies(inventory, orders, options),
      await customerCopies(customers, orders, options),
      await outbox(
        [
          ['inventory', inventory],
          ['orders', orders],
          ['customers', customers],
        ],
        options,
      ),
      result('pending-orders', pending.rows, pending.count),
      result(
        'ledger',
        ledger.map((m) => ({
          key: `product ${m.sku} (${m.productId})`,
          detail: `on hand ${m.onHand} vs ledger ${m.ledgerOnHand}, reserved ${m.reserved} vs ledger ${m.ledgerReserved}`,
        })),
      ),
      result(
        'aggregates',
        aggregates.map((d) => ({
          key: `${d.aggregate} ${d.key}`,
          detail: `expected ${d.expected}, stored ${d.stored}`,
        })),
      ),
    ];
  });
}
