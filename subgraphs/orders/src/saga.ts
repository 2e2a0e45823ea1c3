import type { Tx } from '@stockgraph/db';
import type { SubgraphServices } from '@stockgraph/server';
import { enqueue, type Envelope } from '@stockgraph/events';
import { OrderWriter } from './db/order-writer.repository.js';
import type * as schema from './db/schema.js';
import { outbox, type OrderRejection } from './db/schema.js';
import { ORDERS_STREAM } from './events.js';
import { outcomes } from './desk.js';

/** After the outcome is committed, wake the placeOrder call waiting for it in this process. */
export function announceOutcome(envelope: Envelope): void {
  if (envelope.type === 'StockReserved' || envelope.type === 'StockRejected')
    outcomes.emit((envelope.payload as { orderId: string }).orderId);
}

/**
 * Applies inventory's and customers' events inside the consumer's transaction: the outcome of each
 * reservation, and the prices and customers placing an order relies on. Outcomes only move PENDING
 * orders, so a late answer for an order cancelled meanwhile changes nothing.
 */
export async function applyEvent(envelope: Envelope, tx: Tx<typeof schema>): Promise<void> {
  const writer = new OrderWriter(tx);
  const payload = envelope.payload as Record<string, any>;
  switch (envelope.type) {
    case 'StockReserved': {
      await writer.transition(payload.orderId, ['PENDING'], 'CONFIRMED');
      return;
    }
    case 'StockRejected': {
      const rejection: OrderRejection = { code: 'INSUFFICIENT_STOCK', products: payload.products };
      await writer.transition(payload.orderId, ['PENDING'], 'REJECTED', rejection);
      return;
    }
    case 'ProductCreated':
    case 'ProductPriceChanged':
      return writer.upsertPrice(
        payload.productId,
        payload.unitPrice,
        new Date(payload.priceSince ?? envelope.occurredAt),
      );
    case 'CustomerCreated':
      return writer.rememberCustomer(payload.customerId);
    default:
      return;
  }
}

/**
 * The saga's timeout: an order still PENDING after `afterMs` announces itself again. Inventory decides
 * each order once and repeats its decision, so asking twice is safe; it makes a lost message (Redis
 * restarted without its data) cost a delay, never a stuck order.
 */
export function retryStalePending(services: SubgraphServices<typeof schema>, afterMs: number) {
  const sweep = async () => {
    const retried = await services.transact(async (tx) => {
      const stale = await new OrderWriter(tx).claimStalePending(afterMs, 100);
      await enqueue(
        tx,
        outbox,
        ORDERS_STREAM,
        stale.map((o) => ({ type: 'OrderPlaced', payload: { orderId: o.id, items: o.items } })),
      );
      return stale.length;
    });
    if (retried > 0) {
      services.logger.warn({ orders: retried }, 'orders still pending; asked inventory again');
    }
  };
  const timer = setInterval(
    () => void sweep().catch((error) => services.logger.warn({ err: error }, 'pending-order sweep failed')),
    Math.max(1000, Math.floor(afterMs / 2)),
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
