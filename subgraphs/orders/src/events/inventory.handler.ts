import { consume, encode, inventoryStream, ordersStream } from '@stockgraph/contracts';
import type { Tx } from '@stockgraph/db';
import { outboxRows } from '@stockgraph/events';
import { OrderWriter } from '../db/order-writer.repository.js';
import type * as schema from '../db/schema.js';
import type { OrderRow } from '../db/schema.js';
import type { Decision } from '../domain/saga-metrics.js';

/** The consumer's transaction, and who hears of each order it decides (the saga's metrics). */
export interface InventoryEventContext {
  tx: Tx<typeof schema>;
  decided?: (outcome: Decision, order: OrderRow) => void;
}

/** The OrderStatusChanged announcing inventory's answer; `decide` fills in the order's author. */
function statusChanged(orderId: string, status: 'CONFIRMED' | 'REJECTED') {
  const [event] = outboxRows(ordersStream.name, [
    {
      type: 'OrderStatusChanged',
      payload: encode(ordersStream, 'OrderStatusChanged', {
        orderId,
        status,
        previousStatus: 'PENDING',
        createdBy: null,
      }),
    },
  ]);
  return event!;
}

/**
 * Inventory's answers and prices, applied inside the consumer's transaction. Outcomes only move
 * PENDING orders, so a late answer for an order cancelled meanwhile changes nothing.
 */
export const applyInventoryEvent = consume<typeof inventoryStream, InventoryEventContext>(inventoryStream, {
  StockReserved: async ({ orderId }, _meta, { tx, decided }) => {
    const order = await new OrderWriter(tx).decide(orderId, 'CONFIRMED', null, statusChanged(orderId, 'CONFIRMED'));
    if (order) decided?.('confirmed', order);
  },
  StockRejected: async ({ orderId, products, code }, _meta, { tx, decided }) => {
    const rejection = { code: code ?? 'INSUFFICIENT_STOCK', products };
    const order = await new OrderWriter(tx).decide(orderId, 'REJECTED', rejection, statusChanged(orderId, 'REJECTED'));
    if (order) decided?.('rejected', order);
  },
  ProductCreated: ({ productId, unitPrice, priceSince }, _meta, { tx }) =>
    new OrderWriter(tx).upsertPrice(productId, unitPrice, new Date(priceSince)),
  ProductPriceChanged: ({ productId, unitPrice, priceSince }, _meta, { tx }) =>
    new OrderWriter(tx).upsertPrice(productId, unitPrice, new Date(priceSince)),
});
