import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { atLeast, type Identity } from '@stockgraph/auth';
import type { Database, Transact, Tx } from '@stockgraph/db';
import { enqueue } from '@stockgraph/events';
import {
  BadUserInputError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  parseIdempotencyKey,
} from '@stockgraph/graphql-kit';
import { isUuid, isUuidV7, newId } from '@stockgraph/ids';
import { OrderRepository } from './db/order.repository.js';
import { OrderWriter } from './db/order-writer.repository.js';
import type * as schema from './db/schema.js';
import { outbox, type OrderRow } from './db/schema.js';
import { ORDERS_STREAM } from './events.js';

const MAX_LINES = 50;
const MAX_QUANTITY = 10_000;

export interface PlaceOrderInput {
  customerId: string;
  items: { productId: string; quantity: number }[];
  idempotencyKey: string;
}

/** Tells waiting placeOrder calls in this process that an order's outcome was recorded. */
export const outcomes = new EventEmitter().setMaxListeners(0);

function centsOf(decimal: string): bigint {
  const [whole, fraction = ''] = decimal.split('.');
  return BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0').slice(0, 2));
}

function decimalOf(cents: bigint): string {
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

function validate(input: PlaceOrderInput) {
  parseIdempotencyKey(input.idempotencyKey);
  if (!isUuid(input.customerId)) throw new BadUserInputError('customerId must be a UUID', 'customerId');
  if (input.items.length === 0) throw new BadUserInputError('an order needs at least one item', 'items');
  if (input.items.length > MAX_LINES) throw new BadUserInputError(`an order has at most ${MAX_LINES} items`, 'items');
  const seen = new Set<string>();
  for (const [i, item] of input.items.entries()) {
    if (!isUuid(item.productId)) throw new BadUserInputError(`items[${i}].productId must be a UUID`, 'items');
    const id = item.productId.toLowerCase();
    if (seen.has(id)) throw new BadUserInputError(`product ${id} appears twice; give one line per product`, 'items');
    seen.add(id);
    if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > MAX_QUANTITY) {
      throw new BadUserInputError(`items[${i}].quantity must be between 1 and ${MAX_QUANTITY}`, 'items');
    }
  }
  return {
    customerId: input.customerId.toLowerCase(),
    items: input.items
      .map((i) => ({ productId: i.productId.toLowerCase(), quantity: i.quantity }))
      .sort((a, b) => a.productId.localeCompare(b.productId)),
  };
}

/** Placing, cancelling and fulfilling orders: the orders side of the saga. */
export class OrderDesk {
  constructor(
    private readonly db: Database<typeof schema>,
    private readonly transact: Transact<typeof schema>,
    private readonly waitMs: number,
  ) {}

  private write<T>(work: (writer: OrderWriter, tx: Tx<typeof schema>) => Promise<T>): Promise<T> {
    return this.transact((tx) => work(new OrderWriter(tx), tx));
  }

  /**
   * Creates the order PENDING with its OrderPlaced event in one transaction, then waits up to
   * `waitMs` for inventory's answer. The idempotency key makes retries (even concurrent ones) return
   * the first attempt's order; the same key with a different order is a CONFLICT.
   */
  async place(identity: Identity, input: PlaceOrderInput): Promise<OrderRow> {
    const request = validate(input);
    const requestHash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    const order = await this.write(async (writer, tx) => {
      const createdAt = new Date();
      const orderId = newId(createdAt);
      if (!(await writer.claimKey(identity.userId, input.idempotencyKey, requestHash, orderId))) {
        const earlier = (await writer.findKey(identity.userId, input.idempotencyKey))!;
        if (earlier.requestHash !== requestHash)
          throw new ConflictError('idempotencyKey was already used for a different order');
        return (await writer.lock(earlier.orderId))!;
      }
      if (!(await writer.customerKnown(request.customerId)))
        throw new BadUserInputError(`customer ${request.customerId} does not exist`, 'customerId');
      const prices = await writer.prices(request.items.map((i) => i.productId));
      const unknown = request.items.filter((i) => !prices.has(i.productId)).map((i) => i.productId);
      if (unknown.length > 0) throw new BadUserInputError(`unknown product(s): ${unknown.join(', ')}`, 'items');
      const lines = request.items.map((i) => {
        const unitPrice = prices.get(i.productId)!;
        return {
          orderId,
          createdAt,
          productId: i.productId,
          quantity: i.quantity,
          unitPrice,
          lineTotal: decimalOf(centsOf(unitPrice) * BigInt(i.quantity)),
        };
      });
      const total = decimalOf(lines.reduce((sum, l) => sum + centsOf(l.lineTotal), 0n));
      const created = await writer.insert(
        {
          id: orderId,
          createdAt,
          updatedAt: createdAt,
          number: await writer.nextNumber(),
          customerId: request.customerId,
          status: 'PENDING',
          total,
          createdBy: identity.userId,
        },
        lines,
      );
      await enqueue(tx, outbox, ORDERS_STREAM, [{ type: 'OrderPlaced', payload: { orderId, items: request.items } }]);
      return created;
    });
    return order.status === 'PENDING' ? this.awaitOutcome(order) : order;
  }

  private async awaitOutcome(order: OrderRow): Promise<OrderRow> {
    const deadline = Date.now() + this.waitMs;
    const reader = new OrderRepository(this.db);
    let current = order;
    while (current.status === 'PENDING' && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          outcomes.off(order.id, done);
          resolve();
        };
        // The outcome event wakes us at once when this process applies it; the timer covers another
        // replica applying it, without every waiting request polling the database ten times a second.
        const timer = setTimeout(done, Math.min(250, Math.max(0, deadline - Date.now())));
        outcomes.on(order.id, done);
      });
      current = (await reader.findByIds([order.id]))[0] ?? current;
    }
    return current;
  }

  /** PENDING or CONFIRMED orders can be cancelled (their reservation is released); cancelling twice is harmless. */
  async cancel(identity: Identity, id: string): Promise<OrderRow> {
    // Every order id is a UUIDv7 (its time names the partition); any other UUID names no order.
    if (!isUuidV7(id)) throw new NotFoundError('Order', id);
    return this.write(async (writer, tx) => {
      const order = await writer.lock(id);
      if (!order) throw new NotFoundError('Order', id);
      if (order.createdBy !== identity.userId && !atLeast(identity.role, 'MANAGER'))
        throw new ForbiddenError('Staff may cancel only the orders they placed');
      if (order.status === 'CANCELLED') return order;
      if (order.status === 'FULFILLED' || order.status === 'REJECTED')
        throw new ConflictError(`A ${order.status.toLowerCase()} order cannot be cancelled`);
      const cancelled = (await writer.transition(id, ['PENDING', 'CONFIRMED'], 'CANCELLED'))!;
      await enqueue(tx, outbox, ORDERS_STREAM, [{ type: 'OrderCancelled', payload: { orderId: id } }]);
      return cancelled;
    });
  }

  /** Only CONFIRMED orders ship: their reservation becomes a sale. Fulfilling twice is harmless. */
  async fulfil(id: string): Promise<OrderRow> {
    if (!isUuidV7(id)) throw new NotFoundError('Order', id);
    return this.write(async (writer, tx) => {
      const order = await writer.lock(id);
      if (!order) throw new NotFoundError('Order', id);
      if (order.status === 'FULFILLED') return order;
      if (order.status !== 'CONFIRMED')
        throw new ConflictError(
          `A ${order.status.toLowerCase()} order cannot be fulfilled; only confirmed orders ship`,
        );
      const fulfilled = (await writer.transition(id, ['CONFIRMED'], 'FULFILLED'))!;
      await enqueue(tx, outbox, ORDERS_STREAM, [{ type: 'OrderFulfilled', payload: { orderId: id } }]);
      return fulfilled;
    });
  }
}
