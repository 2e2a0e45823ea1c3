import type { OrderRow } from '../db/schema.js';

/**
 * Lets a placeOrder call wait for its order's outcome. The inventory-stream handler announces each
 * outcome this process commits with the order as decided, which wakes the waiting call at once; an
 * outcome applied by another replica comes as its NOTIFY (the id only), and the caller's bounded waits
 * between re-reads cover a notification lost on the way.
 * One per process, created by the bootstrap hook.
 */
export class OutcomeWaiter {
  private readonly waiting = new Map<string, Set<(order: OrderRow | undefined) => void>>();

  /**
   * Resolves when `orderId`'s outcome is announced (with the decided order when the announcer had it)
   * or after `ms` with undefined, whichever comes first.
   */
  wait(orderId: string, ms: number): Promise<OrderRow | undefined> {
    return new Promise((resolve) => {
      const waiters = this.waiting.get(orderId) ?? new Set<(order: OrderRow | undefined) => void>();
      this.waiting.set(orderId, waiters);
      const done = (order: OrderRow | undefined) => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiting.get(orderId) === waiters) this.waiting.delete(orderId);
        resolve(order);
      };
      const timer = setTimeout(() => done(undefined), Math.max(0, ms));
      waiters.add(done);
    });
  }

  /** Wakes every call waiting for `orderId`, handing them the decided order if given. */
  announce(orderId: string, order?: OrderRow): void {
    for (const done of [...(this.waiting.get(orderId) ?? [])]) done(order);
  }

  /** Calls now waiting (for shutdown and tests). */
  get size(): number {
    let n = 0;
    for (const waiters of this.waiting.values()) n += waiters.size;
    return n;
  }
}
