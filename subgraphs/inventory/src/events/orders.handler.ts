import { consume, inventoryStream, ordersStream, publish, type Payload } from '@stockgraph/contracts';
import type { Tx } from '@stockgraph/db';
import type { Logger } from '@stockgraph/logger';
import type * as schema from '../db/schema.js';
import { outbox } from '../db/schema.js';
import { StockRepository, type OrderLine } from '../db/stock.repository.js';
import { endingMovements, inLockOrder, shortfall } from '../domain/reservation.js';
import { bookMovements } from '../domain/stock-ledger.js';

class Insufficient extends Error {}

/** What the handler runs in: the consumer's transaction. */
export interface SagaContext {
  tx: Tx<typeof schema>;
  logger: Logger;
}

async function placed({ tx }: SagaContext, event: Payload<typeof ordersStream, 'OrderPlaced'>): Promise<void> {
  const stock = new StockRepository(tx);
  const { orderId } = event;
  const earlier = await stock.lockReservation(orderId);
  if (earlier) {
    // Decided before: orders asks again when it never heard the answer (a lost message), so repeat it.
    if (earlier.status === 'RESERVED') await publish(tx, outbox, inventoryStream, 'StockReserved', { orderId });
    if (earlier.status === 'REJECTED')
      await publish(tx, outbox, inventoryStream, 'StockRejected', { orderId, products: [] });
    return;
  }
  const lines = inLockOrder(event.items);
  try {
    await tx.transaction(async (savepoint) => {
      const inner = new StockRepository(savepoint);
      for (const line of lines) if (!(await inner.reserve(line))) throw new Insufficient();
      await bookMovements(
        savepoint,
        lines.map((l) => ({ productId: l.productId, delta: l.quantity, reason: 'RESERVATION' as const, orderId })),
      );
    });
  } catch (error) {
    if (!(error instanceof Insufficient)) throw error;
    const products = shortfall(lines, await stock.availability(lines.map((l) => l.productId)));
    await stock.saveReservation(orderId, 'REJECTED', lines);
    await publish(tx, outbox, inventoryStream, 'StockRejected', { orderId, products });
    return;
  }
  await stock.saveReservation(orderId, 'RESERVED', lines);
  await publish(tx, outbox, inventoryStream, 'StockReserved', { orderId });
}

async function ended({ tx, logger }: SagaContext, orderId: string, sold: boolean): Promise<void> {
  const stock = new StockRepository(tx);
  const reservation = await stock.lockReservation(orderId);
  if (!reservation) {
    if (!sold) await stock.saveReservation(orderId, 'CANCELLED', []);
    else logger.error({ orderId }, 'fulfilment of an order inventory never reserved');
    return;
  }
  if (reservation.status !== 'RESERVED') return;
  const lines: OrderLine[] = reservation.items;
  for (const line of lines) await stock.unreserve(line, sold);
  await bookMovements(tx, endingMovements(lines, orderId, sold));
  await stock.saveReservation(orderId, sold ? 'SOLD' : 'RELEASED', lines);
  await publish(tx, outbox, inventoryStream, sold ? 'StockSold' : 'StockReleased', { orderId });
}

/**
 * Inventory's side of the order saga, run by the consumer inside the transaction that marks the event
 * processed. The reservations row is the state machine: decisions are made once, in order, and an
 * event arriving twice or out of order changes nothing it should not.
 */
export const applyOrdersEvent = consume<typeof ordersStream, SagaContext>(ordersStream, {
  OrderPlaced: (event, _meta, context) => placed(context, event),
  OrderCancelled: ({ orderId }, _meta, context) => ended(context, orderId, false),
  OrderFulfilled: ({ orderId }, _meta, context) => ended(context, orderId, true),
});
