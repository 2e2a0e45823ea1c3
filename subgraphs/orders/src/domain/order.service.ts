import { atLeast, type Identity } from '@stockgraph/auth';
import { ordersStream, publish } from '@stockgraph/contracts';
import { once, type Database, type Transact, type Tx } from '@stockgraph/db';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError } from '@stockgraph/graphql-kit';
import { isUuidV7, newId } from '@stockgraph/ids';
import { OrderRepository } from '../db/order.repository.js';
import { OrderWriter } from '../db/order-writer.repository.js';
import type * as schema from '../db/schema.js';
import { idempotencyKeys, outbox, type OrderRow } from '../db/schema.js';
import { lineTotal, sum } from './money.js';
import { validateOrder, type OrderRequest, type PlaceOrderInput } from './order-input.js';
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
    private readonly onPlaced: () => void = () => {},
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
    const request = validateOrder(input);
    const claim = { userId: identity.userId, key: input.idempotencyKey, request };
    let placed = false;
    const order = await this.write(async (writer, tx) => {
      let created: OrderRow | null = null;
      const result = await once(tx, idempotencyKeys, claim, async () => {
        created = await this.create(writer, tx, identity, request);
        return created.id;
      });
      if (result.outcome === 'conflict')
        throw new ConflictError('idempotencyKey was already used for a different order');
      placed = created !== null;
      return created ?? (await writer.lock(result.id))!;
    });
    if (placed) this.onPlaced();
    return order.status === 'PENDING' ? this.awaitOutcome(order) : order;
  }

  /** The order and its OrderPlaced event, written once its customer and prices are known. */
  private async create(
    writer: OrderWriter,
    tx: Tx<typeof schema>,
    identity: Identity,
    request: OrderRequest,
  ): Promise<OrderRow> {
    const createdAt = new Date();
    const orderId = newId(createdAt);
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
        lineTotal: lineTotal(unitPrice, i.quantity),
      };
    });
    const total = sum(lines.map((l) => l.lineTotal));
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
    await publish(tx, outbox, ordersStream, 'OrderPlaced', { orderId, items: request.items });
    await publish(tx, outbox, ordersStream, 'OrderStatusChanged', {
      orderId,
      status: 'PENDING',
      previousStatus: null,
      createdBy: identity.userId,
    });
    return created;
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
      await this.outcomes.wait(order.id, Math.min(left, RECHECK_MS));
      current = (await new OrderRepository(this.db).findByIds([order.id]))[0] ?? current;
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
