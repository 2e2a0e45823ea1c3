import { ordersStream, publish } from '@stockgraph/contracts';
import type { SubgraphServices } from '@stockgraph/server';
import { OrderWriter } from '../db/order-writer.repository.js';
import type * as schema from '../db/schema.js';
import { outbox } from '../db/schema.js';

/**
 * The saga's timeout: an order still PENDING after `afterMs` announces itself again. Inventory decides
 * each order once and repeats its decision, so asking twice is safe; it makes a lost message (Redis
 * restarted without its data) cost a delay, never a stuck order.
 */
export function retryStalePending(services: SubgraphServices<typeof schema>, afterMs: number) {
  const sweep = async () => {
    const retried = await services.transact(async (tx) => {
      const stale = await new OrderWriter(tx).claimStalePending(afterMs, 100);
      for (const order of stale)
        await publish(tx, outbox, ordersStream, 'OrderPlaced', { orderId: order.id, items: order.items });
      return stale.length;
    });
    if (retried > 0) services.logger.warn({ orders: retried }, 'orders still pending; asked inventory again');
  };
  const timer = setInterval(
    () => void sweep().catch((error: unknown) => services.logger.warn({ err: error }, 'pending-order sweep failed')),
    Math.max(1000, Math.floor(afterMs / 2)),
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
