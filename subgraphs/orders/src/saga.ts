import type { Database } from '@stockgraph/db';
import type { Envelope } from '@stockgraph/events';
import { OrderWriter } from './db/order-writer.repository.js';
import type * as schema from './db/schema.js';
import type { OrderRejection } from './db/schema.js';
import { outcomes } from './desk.js';

/** After the outcome is committed, wake the placeOrder call waiting for it in this process. */
export function announceOutcome(envelope: Envelope): void {
  if (envelope.type === 'StockReserved' || envelope.type === 'StockRejected') outcomes.emit((envelope.payload as { orderId: string }).orderId);
}

/**
 * Applies inventory's and customers' events inside the consumer's transaction: the outcome of each
 * reservation, and the prices and customers placing an order relies on. Outcomes only move PENDING
 * orders, so a late answer for an order cancelled meanwhile changes nothing.
 */
export async function applyEvent(envelope: Envelope, tx: Database<typeof schema>): Promise<void> {
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
      return writer.upsertPrice(payload.productId, payload.unitPrice);
    case 'CustomerCreated':
      return writer.rememberCustomer(payload.customerId);
    default:
      return;
  }
}
