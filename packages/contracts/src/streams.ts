import { z } from 'zod';
import { event, stream } from './contract.js';

// Ids are compared as 8-4-4-4-12 hex strings: seeded ids need not carry a RFC 9562 version.
const id = z.guid();
const amount = z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal amount');
const units = z.number().int();
const orderRef = z.object({ orderId: id });

/** Orders' stream: the saga's requests to inventory. */
export const ordersStream = stream('orders', {
  OrderPlaced: event(
    1,
    z.object({
      orderId: id,
      items: z.array(z.object({ productId: id, quantity: units.positive() })).min(1),
    }),
  ),
  OrderCancelled: event(1, orderRef),
  OrderFulfilled: event(1, orderRef),
  /**
   * Every status an order takes, in the transaction that sets it: what live subscribers are told.
   * `createdBy` lets a reader decide who may see it without asking orders.
   */
  OrderStatusChanged: event(
    1,
    z.object({
      orderId: id,
      status: z.enum(['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'FULFILLED']),
      previousStatus: z.enum(['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'FULFILLED']).nullable(),
      /** Null for orders that came from the legacy import without a known author. */
      createdBy: id.nullable(),
    }),
  ),
});

/** Inventory's stream: its answers to the saga, and the prices orders copies. */
export const inventoryStream = stream('inventory', {
  StockReserved: event(1, orderRef),
  StockRejected: event(
    1,
    z.object({
      orderId: id,
      /** Empty when inventory repeats an earlier rejection it no longer has the details of. */
      products: z.array(
        z.object({
          productId: id,
          requested: units,
          available: units,
          /** The open stocktake that holds the product: it takes no reservations until closed. */
          stocktakeId: id.nullable().optional(),
        }),
      ),
      /** Absent from events written before stocktakes existed: those are INSUFFICIENT_STOCK. */
      code: z.enum(['INSUFFICIENT_STOCK', 'STOCKTAKE_IN_PROGRESS']).optional(),
    }),
  ),
  StockReleased: event(1, orderRef),
  StockSold: event(1, orderRef),
  ProductCreated: event(1, z.object({ productId: id, sku: z.string(), unitPrice: amount, priceSince: z.string() })),
  ProductPriceChanged: event(1, z.object({ productId: id, unitPrice: amount, priceSince: z.string() })),
  /** A stocktake opened, a count was recorded (or changed), or it closed: what live progress screens are told. */
  StocktakeProgressed: event(
    1,
    z.object({
      stocktakeId: id,
      status: z.enum(['OPEN', 'CLOSED']),
      counted: units,
      total: units,
      /** The product whose count this event records; absent for opening and closing. */
      productId: id.optional(),
    }),
  ),
  /** A product's other fields changed (name, description, category, reorder level): readers drop what they cached. */
  ProductUpdated: event(1, z.object({ productId: id })),
  /** One row of the stock ledger, with the product's levels after it: what live stock screens are told. */
  StockChanged: event(
    1,
    z.object({
      productId: id,
      movementId: id,
      reason: z.enum(['RECEIPT', 'SALE', 'ADJUSTMENT', 'RETURN', 'RESERVATION', 'RELEASE']),
      delta: units,
      available: units,
      reorderLevel: units,
    }),
  ),
});

/** Customers' stream: which customers exist, for orders to accept orders for them. */
export const customersStream = stream('customers', {
  CustomerCreated: event(1, z.object({ customerId: id })),
});

/** Every stream, for tools that list or check them all. */
export const streams = [ordersStream, inventoryStream, customersStream] as const;
