import { ensureMonthlyPartitions, type Database } from '@stockgraph/db';
import { generateDemoData } from '@stockgraph/demo-data';
import type { Logger } from '@stockgraph/logger';
import { sql } from 'drizzle-orm';
import { foldAggregates } from './aggregates.repository.js';
import { OrderRepository } from './order.repository.js';
import type * as schema from './schema.js';
import {
  knownCustomers,
  orderItems,
  orders,
  partitionedTables,
  productPrices,
  type NewOrderItemRow,
} from './schema.js';

const BATCH = 1000;

/** Two years of demo orders, in one transaction, only into an empty table. */
export async function seedDemoData(db: Database<typeof schema>, logger: Logger): Promise<void> {
  const seeded = await db.transaction(async (t) => {
    if (!(await new OrderRepository(t).isEmpty())) return false;
    const demo = generateDemoData();
    const first = demo.orders[0]!.createdAt;
    const last = demo.orders.at(-1)!.createdAt;
    for (const table of partitionedTables) await ensureMonthlyPartitions(t, table, first, last);

    const rows = demo.orders.map(({ items: _items, ...order }) => order);
    for (let i = 0; i < rows.length; i += BATCH) await t.insert(orders).values(rows.slice(i, i + BATCH));
    const items: NewOrderItemRow[] = demo.orders.flatMap((order) =>
      order.items.map((item) => ({
        orderId: order.id,
        createdAt: order.createdAt,
        productId: item.productId,
        quantity: item.quantity,
        unitPrice: item.unitPrice,
        lineTotal: ((Math.round(Number(item.unitPrice) * 100) * item.quantity) / 100).toFixed(2),
      })),
    );
    for (let i = 0; i < items.length; i += BATCH) await t.insert(orderItems).values(items.slice(i, i + BATCH));
    // The read models placing an order needs; later changes arrive as inventory and customers events.
    await t.insert(productPrices).values(demo.products.map((p) => ({ productId: p.id, unitPrice: p.unitPrice })));
    await t.insert(knownCustomers).values(demo.customers.map((c) => ({ customerId: c.id })));
    // Numbers of orders placed later continue after the seeded ones.
    await t.execute(sql`select setval('orders.order_number_seq', ${demo.orders.length})`);
    logger.info({ orders: rows.length, items: items.length }, 'demo data seeded');
    return true;
  });
  // The seeded orders' aggregate deltas folded now, so the template (and a first start that seeds) is
  // not folding two years of them (~400 ms on PGlite) while it answers its first requests.
  if (seeded) await foldAggregates(db);
}
