/**
 * placeOrder through the gateway under 1, 10 and 50 concurrent clients, every service its own process
 * on the machine's PostgreSQL and Redis. After each run: every order final, no oversell, and the
 * ledger agrees with the stock columns.
 *
 *   pnpm bench:orders [--seconds 10] [--stock 2000]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { run } from '@stockgraph/testkit';
import autocannon from 'autocannon';
import postgres from 'postgres';
import {
  dropRedisKeys,
  demo,
  finalStatuses,
  productWithStock,
  startSagaStack,
  stockOf,
} from '../tests/saga-support.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    stock: { type: 'string', default: '2000' },
    clients: { type: 'string', default: '1,10,50' },
  },
  strict: true,
});
const seconds = Number(values.seconds);
const stockUnits = Number(values.stock);
const levels = values.clients.split(',').map(Number);
if (
  !Number.isInteger(seconds) ||
  seconds < 1 ||
  !Number.isInteger(stockUnits) ||
  stockUnits < 1 ||
  levels.some((n) => !Number.isInteger(n) || n < 1)
) {
  process.stderr.write('usage: pnpm bench:orders [--seconds N>=1] [--stock N>=1] [--clients 1,10,50]\n');
  process.exit(2);
}

const { stack, prefix } = await startSagaStack(
  { DATABASE_POOL_MAX: '10' },
  { gatewayEnv: { SESSION_CACHE_MS: '5000' } },
);
const sql = postgres(stack.database.url, { max: 1 });
try {
  const headers = await stack.as('STAFF');
  const rows: Record<string, string | number>[] = [];
  for (const clients of levels) {
    const productId = await productWithStock(stack, stockUnits);
    const body = (key: string) =>
      JSON.stringify({
        query: 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }',
        variables: {
          input: {
            customerId: demo.customers[clients % demo.customers.length]!.id,
            items: [{ productId, quantity: 1 }],
            idempotencyKey: key,
          },
        },
      });
    const result = await autocannon({
      url: stack.gateway.url,
      method: 'POST',
      connections: clients,
      duration: seconds,
      headers: { 'content-type': 'application/json', ...headers },
      // A fresh idempotency key per request: every request is a new order.
      requests: [{ setupRequest: (request) => ({ ...request, body: body(randomUUID()) }) }],
    });
    // autocannon stops at the deadline with requests still in flight on the server: let them land.
    const orderIds = async () =>
      (await sql`select distinct order_id as id from orders.order_items where product_id = ${productId}`).map(
        (r) => r.id as string,
      );
    let ids = await orderIds();
    for (let settled = false; !settled;) {
      await new Promise((r) => setTimeout(r, 1000));
      const again = await orderIds();
      settled = again.length === ids.length;
      ids = again;
    }
    const statuses = await finalStatuses(stack, ids, 120_000).catch(async (error) => {
      const byStatus =
        await sql`select status, count(*)::int as n from orders.orders where id = any(${ids}) group by status`;
      const pending =
        await sql`select o.id, r.status as reservation from orders.orders o left join inventory.reservations r on r.order_id = o.id where o.id = any(${ids}) and o.status = 'PENDING' limit 5`;
      const outboxes =
        await sql`select 'orders' as s, count(*)::int as n from orders.outbox where published_at is null union all select 'inventory', count(*)::int from inventory.outbox where published_at is null`;
      process.stderr.write(`not final: ${JSON.stringify({ byStatus, pending, outboxes })}\n`);
      for (const name of ['orders', 'inventory'] as const) {
        process.stderr.write(
          stack.subgraphs[name].output
            .filter((l) => /"level":(40|50)/.test(l))
            .slice(-5)
            .join('\n') + '\n',
        );
      }
      throw error;
    });
    const confirmed = [...statuses.values()].filter((s) => s === 'CONFIRMED').length;
    const stock = await stockOf(stack, productId);
    const ledger = await run('subgraphs/inventory/src/stock-check.ts', { DATABASE_URL: stack.database.url });
    const oversold = stock.available < 0 || stock.reserved !== confirmed || confirmed > stockUnits;
    if (oversold)
      process.stderr.write(
        `invariant broken at ${clients} clients: ${JSON.stringify({ stock, confirmed, orders: ids.length })}\n`,
      );
    rows.push({
      clients,
      'orders/s': Math.round(result.requests.average),
      'p50 ms': result.latency.p50,
      'p99 ms': result.latency.p99,
      orders: ids.length,
      confirmed,
      rejected: ids.length - confirmed,
      errors: result.errors + result.non2xx,
      'no oversell': oversold ? 'VIOLATED' : 'held',
      ledger: ledger.code === 0 ? 'agrees' : 'DISAGREES',
    });
    if (oversold || ledger.code !== 0) process.exitCode = 1;
  }
  process.stdout.write(
    `\nplaceOrder through the gateway, ${seconds}s per level, ${stockUnits} units per product, one product per order line\n`,
  );
  console.table(rows);
} finally {
  await sql.end();
  await stack.stop();
  await dropRedisKeys(prefix);
}
