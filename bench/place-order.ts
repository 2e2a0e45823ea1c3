/**
 * placeOrder through the gateway, every service its own process on the machine's PostgreSQL and
 * Redis, in two load shapes at each client level:
 *
 *   hot     every order is one line for the same product: the worst case for its row lock;
 *   spread  1–5 lines (1–3 units each) over a catalogue of products;
 *   mixed   the spread shape while other clients read the catalogue and order history (their
 *           latency is reported too).
 *
 * After each run: every order final, no oversell (each product's reserved units are exactly the
 * confirmed orders' units, and never more than its stock), and the ledger agrees with the stock
 * columns. Latency is from the request to the CONFIRMED/REJECTED answer.
 *
 *   pnpm bench:orders [--seconds 10] [--stock 2000] [--clients 10,50] [--shapes hot,spread,mixed]
 *                     [--catalogue 40] [--readers 4]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { graphql, run } from '@stockgraph/testkit';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { dropRedisKeys, demo, eventually, finalStatuses, startSagaStack } from '../tests/saga-support.js';

const SHAPES = ['hot', 'spread', 'mixed'] as const;
type Shape = (typeof SHAPES)[number];

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    stock: { type: 'string', default: '2000' },
    clients: { type: 'string', default: '10,50' },
    shapes: { type: 'string', default: SHAPES.join(',') },
    catalogue: { type: 'string', default: '40' },
    readers: { type: 'string', default: '4' },
  },
  strict: true,
});
const seconds = Number(values.seconds);
const stockUnits = Number(values.stock);
const catalogueSize = Number(values.catalogue);
const readers = Number(values.readers);
const levels = values.clients.split(',').map(Number);
const shapes = values.shapes.split(',') as Shape[];
const positive = (n: number) => Number.isInteger(n) && n >= 1;
if (
  ![seconds, stockUnits, catalogueSize, readers, ...levels].every(positive) ||
  shapes.some((s) => !SHAPES.includes(s))
) {
  process.stderr.write(
    'usage: pnpm bench:orders [--seconds N] [--stock N] [--clients 10,50] [--shapes hot,spread,mixed] [--catalogue N] [--readers N]\n',
  );
  process.exit(2);
}

const { stack, prefix } = await startSagaStack(
  { DATABASE_POOL_MAX: '10' },
  { gatewayEnv: { SESSION_CACHE_MS: '5000' } },
);
const sql = postgres(stack.database.url, { max: 1 });

/** Products created through the API like a manager would, each with `units` in stock, known to orders. */
async function productsWithStock(count: number, units: number): Promise<string[]> {
  const manager = await stack.as('MANAGER');
  const ids: string[] = [];
  for (let i = 0; i < count; i += 10) {
    const chunk = await Promise.all(
      Array.from({ length: Math.min(10, count - i) }, async () => {
        const sku = `B-${randomUUID().slice(0, 8)}`;
        const created = await graphql(
          stack.gateway.url,
          'mutation ($i: CreateProductInput!) { createProduct(input: $i) { id } }',
          { i: { sku, name: `Bench ${sku}`, unitPrice: '9.99' } },
          manager,
        );
        const id = created.data?.createProduct?.id as string | undefined;
        if (!id) throw new Error(`createProduct failed: ${JSON.stringify(created.errors)}`);
        const received = await graphql(
          stack.gateway.url,
          'mutation ($id: ID!, $q: Int!) { receiveStock(productId: $id, quantity: $q) { onHand } }',
          { id, q: units },
          manager,
        );
        if (received.data?.receiveStock?.onHand !== units) throw new Error('receiveStock failed');
        return id;
      }),
    );
    ids.push(...chunk);
  }
  // Orders learns prices from inventory's events.
  await eventually(
    async () =>
      Number((await sql`select count(*)::int as n from orders.product_prices where product_id = any(${ids})`)[0]!.n) ===
      ids.length,
    60_000,
    'orders knows the prices',
  );
  return ids;
}

/** 1–5 distinct products of the catalogue, 1–3 units each. */
function spreadLines(catalogue: string[]) {
  const n = 1 + Math.floor(Math.random() * 5);
  const picked = new Set<string>();
  while (picked.size < n) picked.add(catalogue[Math.floor(Math.random() * catalogue.length)]!);
  return [...picked].map((productId) => ({ productId, quantity: 1 + Math.floor(Math.random() * 3) }));
}

/** Every order final, no product oversold, the ledger agreeing: what must hold after every run. */
async function verify(productIds: string[]) {
  const orderIds = async () =>
    (await sql`select distinct order_id as id from orders.order_items where product_id = any(${productIds})`).map(
      (r) => r.id as string,
    );
  // autocannon stops at the deadline with requests still in flight on the server: let them land.
  let ids = await orderIds();
  for (let settled = false; !settled;) {
    await new Promise((r) => setTimeout(r, 1000));
    const again = await orderIds();
    settled = again.length === ids.length;
    ids = again;
  }
  const statuses = await finalStatuses(stack, ids, 120_000);
  const confirmed = [...statuses.values()].filter((s) => s === 'CONFIRMED').length;
  // Per product: reserved units are exactly the confirmed orders' units, and available never below zero.
  const broken = await sql`
    with sold as (
      select i.product_id, sum(i.quantity)::int as units
      from orders.order_items i join orders.orders o on o.id = i.order_id and o.created_at = i.created_at
      where o.status = 'CONFIRMED' and i.product_id = any(${productIds}) group by i.product_id)
    select p.id, p.on_hand, p.reserved, coalesce(s.units, 0) as confirmed_units
    from inventory.products p left join sold s on s.product_id = p.id
    where p.id = any(${productIds}) and (p.reserved <> coalesce(s.units, 0) or p.reserved > p.on_hand)`;
  if (broken.length > 0) process.stderr.write(`invariant broken: ${JSON.stringify(broken.slice(0, 5))}\n`);
  const ledger = await run('subgraphs/inventory/src/stock-check.ts', { DATABASE_URL: stack.database.url });
  return { orders: ids.length, confirmed, oversold: broken.length > 0, ledgerAgrees: ledger.code === 0 };
}

/** Readers of the catalogue and of a customer's order history, running for `seconds`. */
function startReaders(headers: Record<string, string>) {
  const read = (query: string) =>
    autocannon({
      url: stack.gateway.url,
      method: 'POST',
      connections: Math.max(1, Math.floor(readers / 2)),
      duration: seconds,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
  return Promise.all([
    read('{ products(first: 20) { edges { node { id sku name available } } } }'),
    read(
      `{ orders(first: 20, filter: { customerId: "${demo.customers[1]!.id}" }) { edges { node { id number status total } } } }`,
    ),
  ]);
}

try {
  const headers = await stack.as('STAFF');
  const readerHeaders = await stack.as('MANAGER');
  const rows: Record<string, string | number>[] = [];
  const reads: Record<string, string | number>[] = [];
  for (const shape of shapes) {
    for (const clients of levels) {
      // Fresh products per run, so each run's checks see only its own orders.
      const catalogue = await productsWithStock(shape === 'hot' ? 1 : catalogueSize, stockUnits);
      const items = () => (shape === 'hot' ? [{ productId: catalogue[0]!, quantity: 1 }] : spreadLines(catalogue));
      const body = () =>
        JSON.stringify({
          query: 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }',
          variables: {
            input: {
              customerId: demo.customers[clients % demo.customers.length]!.id,
              items: items(),
              // A fresh idempotency key per request: every request is a new order.
              idempotencyKey: randomUUID(),
            },
          },
        });
      const readRun = shape === 'mixed' ? startReaders(readerHeaders) : null;
      const result = await autocannon({
        url: stack.gateway.url,
        method: 'POST',
        connections: clients,
        duration: seconds,
        headers: { 'content-type': 'application/json', ...headers },
        requests: [{ setupRequest: (request) => ({ ...request, body: body() }) }],
      });
      const readResults = await readRun;
      const checked = await verify(catalogue);
      const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
      rows.push({
        shape,
        clients,
        'orders/s': Math.round(result.requests.average),
        'p50 ms': result.latency.p50,
        'p99 ms': result.latency.p99,
        orders: checked.orders,
        confirmed: checked.confirmed,
        rejected: checked.orders - checked.confirmed,
        errors: result.errors + result.non2xx,
        'no oversell': checked.oversold ? 'VIOLATED' : 'held',
        ledger: checked.ledgerAgrees ? 'agrees' : 'DISAGREES',
        load,
      });
      if (readResults) {
        for (const [name, r] of [
          ['catalogue', readResults[0]],
          ['order history', readResults[1]],
        ] as const)
          reads.push({
            read: name,
            'with clients placing orders': clients,
            'reads/s': Math.round(r.requests.average),
            'p50 ms': r.latency.p50,
            'p99 ms': r.latency.p99,
            errors: r.errors + r.non2xx,
          });
      }
      if (checked.oversold || !checked.ledgerAgrees) process.exitCode = 1;
    }
  }
  process.stdout.write(
    `\nplaceOrder through the gateway, ${seconds}s per run, ${stockUnits} units per product, ` +
      `spread over ${catalogueSize} products (load = 1-minute load average after the run)\n`,
  );
  console.table(rows);
  if (reads.length > 0) {
    process.stdout.write(`\nreads during the mixed run (${readers} reading clients)\n`);
    console.table(reads);
  }
} finally {
  await sql.end();
  await stack.stop();
  await dropRedisKeys(prefix);
}
