import { consume, encode, inventoryStream, ordersStream, publish, type Payload } from '@stockgraph/contracts';
import type { Tx } from '@stockgraph/db';
import { newId } from '@stockgraph/ids';
import type { Logger } from '@stockgraph/logger';
import type * as schema from '../db/schema.js';
import { outbox, type ReservationRow } from '../db/schema.js';
import { StockRepository, type OrderLine } from '../db/stock.repository.js';
import { endingMovements, inLockOrder } from '../domain/reservation.js';
import { bookMovements } from '../domain/stock-ledger.js';

/** What the handler runs in: the consumer's transaction. */
export interface SagaContext {
  tx: Tx<typeof schema>;
  logger: Logger;
}

/** StockReserved or StockRejected again: orders asks again when it never heard the answer (a lost message). */
async function repeat(tx: Tx<typeof schema>, orderId: string, status: ReservationRow['status']): Promise<void> {
  if (status === 'RESERVED') await publish(tx, outbox, inventoryStream, 'StockReserved', { orderId });
  if (status === 'REJECTED') await publish(tx, outbox, inventoryStream, 'StockRejected', { orderId, products: [] });
}

/**
 * Reserves every line of the order or none, in one statement (see `reserveOrder`), with the events that
 * announce the decision. Their payloads are checked against the contracts here; the statement fills in
 * what only it knows (the levels after each reservation, the units that fell short).
 */
async function placed({ tx }: SagaContext, event: Payload<typeof ordersStream, 'OrderPlaced'>): Promise<void> {
  const stock = new StockRepository(tx);
  const { orderId } = event;
  const lines = inLockOrder(event.items);
  const movementIds = lines.map(() => newId());
  const events = [
    ...lines.map((line, i) => ({
      type: 'StockChanged' as const,
      productId: line.productId,
      payload: encode(inventoryStream, 'StockChanged', {
        productId: line.productId,
        movementId: movementIds[i]!,
        reason: 'RESERVATION',
        delta: line.quantity,
        available: 0,
        reorderLevel: 0,
      }),
    })),
    { type: 'StockReserved' as const, payload: encode(inventoryStream, 'StockReserved', { orderId }) },
    {
      type: 'StockRejected' as const,
      payload: encode(inventoryStream, 'StockRejected', { orderId, products: [] }),
    },
  ].map((e) => ({ ...e, id: newId(), stream: inventoryStream.name }));
  const decided = await stock.reserveOrder(orderId, lines, movementIds, events);
  if (decided.outcome === 'earlier') await repeat(tx, orderId, decided.status);
  if (decided.outcome === 'raced') {
    const earlier = await stock.lockReservation(orderId);
    if (earlier) await repeat(tx, orderId, earlier.status);
  }
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
