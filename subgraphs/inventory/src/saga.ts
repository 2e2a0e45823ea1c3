import type { Tx } from '@stockgraph/db';
import { enqueue, type Envelope } from '@stockgraph/events';
import type { Logger } from '@stockgraph/logger';
import type * as schema from './db/schema.js';
import { outbox } from './db/schema.js';
import { StockRepository, type OrderLine } from './db/stock.repository.js';
import { INVENTORY_STREAM, type OrderPlaced, type OrderRef, type ShortProduct } from './events.js';

class Insufficient extends Error {}

/**
 * Inventory's side of the order saga, run by the consumer inside the transaction that marks the event
 * processed. The reservations row is the state machine: decisions are made once, in order, and an
 * event arriving twice or out of order changes nothing it should not.
 */
export function inventorySaga(logger: Logger) {
  async function placed(stock: StockRepository, tx: Tx<typeof schema>, event: OrderPlaced): Promise<void> {
    const earlier = await stock.lockReservation(event.orderId);
    if (earlier) {
      // Decided before: orders asks again when it never heard the answer (a lost message), so repeat it.
      if (earlier.status === 'RESERVED')
        await enqueue(tx, outbox, INVENTORY_STREAM, [{ type: 'StockReserved', payload: { orderId: event.orderId } }]);
      if (earlier.status === 'REJECTED')
        await enqueue(tx, outbox, INVENTORY_STREAM, [
          { type: 'StockRejected', payload: { orderId: event.orderId, products: [] } },
        ]);
      return;
    }
    // Same product order in every transaction, so concurrent reservations cannot deadlock.
    const lines = [...event.items].sort((a, b) => a.productId.localeCompare(b.productId));
    try {
      await tx.transaction(async (savepoint) => {
        const inner = new StockRepository(savepoint);
        for (const line of lines) if (!(await inner.reserve(line))) throw new Insufficient();
        await inner.ledger(
          lines.map((l) => ({
            productId: l.productId,
            delta: l.quantity,
            reason: 'RESERVATION' as const,
            orderId: event.orderId,
          })),
        );
      });
    } catch (error) {
      if (!(error instanceof Insufficient)) throw error;
      const available = await stock.availability(lines.map((l) => l.productId));
      const short: ShortProduct[] = lines
        .filter((l) => (available.get(l.productId) ?? 0) < l.quantity)
        .map((l) => ({
          productId: l.productId,
          requested: l.quantity,
          available: Math.max(0, available.get(l.productId) ?? 0),
        }));
      await stock.saveReservation(event.orderId, 'REJECTED', lines);
      await enqueue(tx, outbox, INVENTORY_STREAM, [
        { type: 'StockRejected', payload: { orderId: event.orderId, products: short } },
      ]);
      return;
    }
    await stock.saveReservation(event.orderId, 'RESERVED', lines);
    await enqueue(tx, outbox, INVENTORY_STREAM, [{ type: 'StockReserved', payload: { orderId: event.orderId } }]);
  }

  async function ended(stock: StockRepository, tx: Tx<typeof schema>, event: OrderRef, sold: boolean): Promise<void> {
    const reservation = await stock.lockReservation(event.orderId);
    if (!reservation) {
      if (!sold) await stock.saveReservation(event.orderId, 'CANCELLED', []);
      else logger.error({ orderId: event.orderId }, 'fulfilment of an order inventory never reserved');
      return;
    }
    if (reservation.status !== 'RESERVED') return;
    const lines = reservation.items as OrderLine[];
    for (const line of lines) await stock.unreserve(line, sold);
    await stock.ledger(
      lines.flatMap((l) => [
        { productId: l.productId, delta: -l.quantity, reason: 'RELEASE' as const, orderId: event.orderId },
        ...(sold
          ? [{ productId: l.productId, delta: -l.quantity, reason: 'SALE' as const, orderId: event.orderId }]
          : []),
      ]),
    );
    await stock.saveReservation(event.orderId, sold ? 'SOLD' : 'RELEASED', lines);
    await enqueue(tx, outbox, INVENTORY_STREAM, [
      { type: sold ? 'StockSold' : 'StockReleased', payload: { orderId: event.orderId } },
    ]);
  }

  return async (envelope: Envelope, tx: Tx<typeof schema>): Promise<void> => {
    const stock = new StockRepository(tx);
    switch (envelope.type) {
      case 'OrderPlaced':
        return placed(stock, tx, envelope.payload as OrderPlaced);
      case 'OrderCancelled':
        return ended(stock, tx, envelope.payload as OrderRef, false);
      case 'OrderFulfilled':
        return ended(stock, tx, envelope.payload as OrderRef, true);
      default:
        return; // events of no concern to inventory
    }
  };
}
