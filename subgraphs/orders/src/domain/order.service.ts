import { atLeast, type Identity } from '@stockgraph/auth';
import { encode, ordersStream, publish } from '@stockgraph/contracts';
import { requestHashOf, type Database, type Transact, type Tx } from '@stockgraph/db';
import { outboxRows } from '@stockgraph/events';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError } from '@stockgraph/graphql-kit';
import { isUuidV7, newId } from '@stockgraph/ids';
import { OrderRepository } from '../db/order.repository.js';
import { OrderWriter } from '../db/order-writer.repository.js';
import type * as schema from '../db/schema.js';
import { outbox, type OrderRow } from '../db/schema.js';
import { validateOrder, type PlaceOrderInput } from './order-input.js';
import type { OutcomeWaiter } from './outcome-waiter.js';

export type { PlaceOrderInput } from './order-input.js';

/**
 * How often a waiting placeOrder re-reads its order when no wake-up came: the outcome NOTIFY reaches
 * every replica, so this only covers a notification lost while the listening connection reconnected.
 */
const RECHECK_MS = 1000;

/** Placing, cancelling and fulfilling orders: the orders side of the saga. */
export class OrderService {
  constructor(
    private readonly db: Database<typeof schema>,
    private readonly transact: Transact<typeof schema>,
    private readonly outcomes: OutcomeWaiter,
    private readonly waitMs: number,
    private readonly wakeRelay: () => void,
    private readonly onPlaced: () => void = () => {},
  ) {}

  private write<T>(work: (writer: OrderWriter, tx: Tx<typeof schema>) => Promise<T>): Promise<T> {
    return this.transact((tx) => work(new OrderWriter(tx), tx));
  }

  /**
   * Creates the order PENDING with its OrderPlaced event in one statement, then waits up to `waitMs`
   * for inventory's answer. The idempotency key makes retries (even concurrent ones) return the first
   * attempt's order; the same key with a different order is a CONFLICT.
   */
  async place(identity: Identity, input: PlaceOrderInput): Promise<OrderRow> {
    const request = validateOrder(input);
    const requestHash = requestHashOf(request);
    const createdAt = new Date();
    const orderId = newId(createdAt);
    const writer = new OrderWriter(this.db);
    let placement = await writer.place({
      orderId,
      createdAt,
      customerId: request.customerId,
      userId: identity.userId,
      lines: request.items,
      claim: { key: input.idempotencyKey, requestHash },
      events: outboxRows(ordersStream.name, [
        { type: 'OrderPlaced', payload: encode(ordersStream, 'OrderPlaced', { orderId, items: request.items }) },
        {
          type: 'OrderStatusChanged',
          payload: encode(ordersStream, 'OrderStatusChanged', {
            orderId,
            status: 'PENDING',
            previousStatus: null,
            createdBy: identity.userId,
          }),
        },
      ]),
    });
    if (placement.outcome === 'raced') {
      const claim = await writer.claimOf(identity.userId, input.idempotencyKey);
      placement = claim ? { outcome: 'earlier', ...claim } : placement;
    }
    switch (placement.outcome) {
      case 'created':
        this.wakeRelay();
        this.onPlaced();
        return this.awaitOutcome(placement.order);
      case 'earlier': {
        if (placement.requestHash !== requestHash || !placement.resultId)
          throw new ConflictError('idempotencyKey was already used for a different order');
        const [first] = await new OrderRepository(this.db).findByIds([placement.resultId]);
        if (!first) throw new ConflictError('idempotencyKey was already used for a different order');
        return first.status === 'PENDING' ? this.awaitOutcome(first) : first;
      }
      case 'invalid':
        if (!placement.customerKnown)
          throw new BadUserInputError(`customer ${request.customerId} does not exist`, 'customerId');
        throw new BadUserInputError(`unknown product(s): ${placement.unknownProducts.join(', ')}`, 'items');
      case 'raced':
        // The key's row vanished after a conflict: its first attempt rolled back. The client may retry.
        throw new ConflictError('idempotencyKey is being used by another request; retry');
    }
  }

  /**
   * Waits for the outcome: the commit that records it wakes the call at once, whichever replica's
   * consumer applied it (the consumer group hands each event to one of them; the outcome NOTIFY
   * reaches all). The order is also re-read every RECHECK_MS until it is final or `waitMs` is up.
   */
  private async awaitOutcome(order: OrderRow): Promise<OrderRow> {
    if (this.waitMs <= 0) return order;
    const deadline = performance.now() + this.waitMs;
    let current = order;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return current;
      const decision = await this.outcomes.wait(order.id, Math.min(left, RECHECK_MS));
      current =
        decision?.status !== undefined
          ? { ...current, ...decision }
          : ((await new OrderRepository(this.db).findByIds([order.id]))[0] ?? current);
      if (current.status !== 'PENDING') return current;
    }
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
      await publish(tx, outbox, ordersStream, 'OrderCancelled', { orderId: id });
      await publish(tx, outbox, ordersStream, 'OrderStatusChanged', {
        orderId: id,
        status: 'CANCELLED',
        previousStatus: order.status,
        createdBy: order.createdBy,
      });
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
      await publish(tx, outbox, ordersStream, 'OrderFulfilled', { orderId: id });
      await publish(tx, outbox, ordersStream, 'OrderStatusChanged', {
        orderId: id,
        status: 'FULFILLED',
        previousStatus: 'CONFIRMED',
        createdBy: order.createdBy,
      });
      return fulfilled;
    });
  }
}
