import { ensureMonthlyPartitions, type Database } from '@stockgraph/db';
import { createRandom, generateDemoData } from '@stockgraph/demo-data';
import { newId } from '@stockgraph/ids';
import type { Logger } from '@stockgraph/logger';
import { ProductRepository } from './product.repository.js';
import type * as schema from './schema.js';
import {
  partitionedTables,
  priceHistory,
  products,
  reservations,
  stockMovements,
  type NewStockMovementRow,
} from './schema.js';

const BATCH = 1000;

/**
 * Seeds the catalogue and a ledger consistent with the demo orders: a receipt per product, then for
 * each order a reservation, and on fulfilment a release plus a sale (on cancellation a release).
 * Stock columns are the ledger's sums, so the ledger check agrees from the first start.
 */
export async function seedDemoData(db: Database<typeof schema>, logger: Logger): Promise<void> {
  await db.transaction(async (t) => {
    if (!(await new ProductRepository(t).isEmpty())) return;
    const demo = generateDemoData();
    const random = createRandom(7);
    const movements: NewStockMovementRow[] = [];
    const move = (at: Date, row: Omit<NewStockMovementRow, 'id' | 'createdAt'>) =>
      movements.push({ id: newId(at, random.bytes(16)), createdAt: at, ...row });

    for (const p of demo.products) {
      move(p.createdAt, {
        productId: p.id,
        delta: p.initialStock,
        reason: 'RECEIPT',
        note: 'Opening stock',
        actorId: demo.users[1]!.id,
      });
    }
    for (const order of demo.orders) {
      if (order.status === 'REJECTED') continue;
      const closed = new Date(order.updatedAt.getTime() + 1);
      for (const item of order.items) {
        const ref = { productId: item.productId, orderId: order.id, actorId: order.createdBy };
        move(order.createdAt, { ...ref, delta: item.quantity, reason: 'RESERVATION' });
        if (order.status === 'FULFILLED' || order.status === 'CANCELLED')
          move(closed, { ...ref, delta: -item.quantity, reason: 'RELEASE' });
        if (order.status === 'FULFILLED') move(closed, { ...ref, delta: -item.quantity, reason: 'SALE' });
      }
    }

    const onHand = new Map<string, number>();
    const reserved = new Map<string, number>();
    for (const m of movements) {
      const target = m.reason === 'RESERVATION' || m.reason === 'RELEASE' ? reserved : onHand;
      target.set(m.productId, (target.get(m.productId) ?? 0) + m.delta);
    }
    const times = movements.map((m) => m.createdAt.getTime());
    const [earliest, latest] = times.reduce(([lo, hi], x) => [Math.min(lo, x), Math.max(hi, x)], [Infinity, -Infinity]);
    await ensureMonthlyPartitions(t, partitionedTables[0]!, new Date(earliest), new Date(latest));

    await t.insert(products).values(
      demo.products.map(({ initialStock: _initial, ...p }) => ({
        ...p,
        onHand: onHand.get(p.id) ?? 0,
        reserved: reserved.get(p.id) ?? 0,
        updatedAt: p.createdAt,
      })),
    );
    await t.insert(priceHistory).values(
      demo.products.map((p) => ({
        id: newId(p.createdAt, random.bytes(16)),
        productId: p.id,
        unitPrice: p.unitPrice,
        costPrice: p.costPrice,
        changedAt: p.createdAt,
        changedBy: demo.users[1]!.id,
      })),
    );
    for (let i = 0; i < movements.length; i += BATCH) {
      await t.insert(stockMovements).values(movements.slice(i, i + BATCH));
    }
    // The saga's state for the demo orders, so cancelling or fulfilling one releases or sells its stock.
    const decided = demo.orders.map((o) => ({
      orderId: o.id,
      status: ({ CONFIRMED: 'RESERVED', FULFILLED: 'SOLD', CANCELLED: 'RELEASED', REJECTED: 'REJECTED' } as const)[
        o.status
      ],
      items: o.items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
      createdAt: o.createdAt,
      updatedAt: o.updatedAt,
    }));
    for (let i = 0; i < decided.length; i += BATCH) await t.insert(reservations).values(decided.slice(i, i + BATCH));
    logger.info({ products: demo.products.length, movements: movements.length }, 'demo data seeded');
  });
}
