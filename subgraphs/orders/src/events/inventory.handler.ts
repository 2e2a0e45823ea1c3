import { consume, inventoryStream, ordersStream, publish } from '@stockgraph/contracts';
import type { Tx } from '@stockgraph/db';
import { OrderWriter } from '../db/order-writer.repository.js';
import type * as schema from '../db/schema.js';
import { outbox, type OrderRow } from '../db/schema.js';
import type { OutcomeWaiter } from '../domain/outcome-waiter.js';
import type { Decision } from '../domain/saga-metrics.js';

/** The consumer's transaction, and who hears of each order it decides (the saga's metrics). */
export interface InventoryEventContext {
  tx: Tx<typeof schema>;
  decided?: (outcome: Decision, order: OrderRow) => void;
}

/** The status the saga just set, for live subscribers, in the transaction that set it. */
function announceStatus(tx: Tx<typeof schema>, order: OrderRow, previousStatus: OrderRow['status']) {
  return publish(tx, outbox, ordersStream, 'OrderStatusChanged', {
    orderId: order.id,
    status: order.status,
    previousStatus,
    createdBy: order.createdBy,
  });
}

/**
 * Inventory's answers and prices, applied inside the consumer's transaction. Outcomes only move
 * PENDING orders, so a late answer for an order cancelled meanwhile changes nothing.
 */
export const applyInventoryEvent = consume<typeof inventoryStream, InventoryEventContext>(inventoryStream, {
  StockReserved: async ({ orderId }, _meta, { tx, decided }) => {
    const writer = new OrderWriter(tx);
    const order = await writer.transition(orderId, ['PENDING'], 'CONFIRMED');
    if (!order) return;
    await announceStatus(tx, order, 'PENDING');
    await writer.announceOutcome(orderId);
    decided?.('confirmed', order);
  },
  StockRejected: async ({ orderId, products }, _meta, { tx, decided }) => {
    const writer = new OrderWriter(tx);
    const rejection = { code: 'INSUFFICIENT_STOCK' as const, products };
    const order = await writer.transition(orderId, ['PENDING'], 'REJECTED', rejection);
    if (!order) return;
    await announceStatus(tx, order, 'PENDING');
    await writer.announceOutcome(orderId);
    decided?.('rejected', order);
  },
  ProductCreated: ({ productId, unitPrice, priceSince }, _meta, { tx }) =>
    new OrderWriter(tx).upsertPrice(productId, unitPrice, new Date(priceSince)),
  ProductPriceChanged: ({ productId, unitPrice, priceSince }, _meta, { tx }) =>
    new OrderWriter(tx).upsertPrice(productId, unitPrice, new Date(priceSince)),
});

/**
 * After an outcome is committed, wakes the placeOrder call waiting for it in this process at once;
 * other replicas hear of it through the NOTIFY the handler sent (see app.ts).
 */
export function announceOutcome(waiter: OutcomeWaiter) {
  return consume<typeof inventoryStream, null>(inventoryStream, {
    StockReserved: async ({ orderId }) => waiter.announce(orderId),
    StockRejected: async ({ orderId }) => waiter.announce(orderId),
  });
}
