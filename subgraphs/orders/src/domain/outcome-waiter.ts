import type { OutcomeNotice } from '../db/order-writer.repository.js';

/**
 * Lets a placeOrder call wait for its order's outcome. The inventory-stream handler announces each
 * outcome this process commits with the order as decided, and every replica hears it as a NOTIFY
 * carrying the decision: either wakes the waiting call at once, with no need to read the order again.
 * The caller's bounded waits between re-reads cover a notification lost on the way.
 * One per process, created by the bootstrap hook.
 */
export class OutcomeWaiter {
  private readonly waiting = new Map<string, Set<(decision: OutcomeNotice | undefined) => void>>();

  /**
   * Resolves when `orderId`'s outcome is announced (with what the decision changed, when the announcer
   * knew it) or after `ms` with undefined, whichever comes first.
   */
  wait(orderId: string, ms: number): Promise<OutcomeNotice | undefined> {
    return new Promise((resolve) => {
      const waiters = this.waiting.get(orderId) ?? new Set<(decision: OutcomeNotice | undefined) => void>();
      this.waiting.set(orderId, waiters);
      const done = (decision: OutcomeNotice | undefined) => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiting.get(orderId) === waiters) this.waiting.delete(orderId);
        resolve(decision);
      };
      const timer = setTimeout(() => done(undefined), Math.max(0, ms));
      waiters.add(done);
    });
  }

  /** Wakes every call waiting for `orderId`, handing them the decision if given. */
  announce(orderId: string, decision?: OutcomeNotice): void {
    for (const done of [...(this.waiting.get(orderId) ?? [])]) done(decision);
  }

  /** Calls now waiting (for shutdown and tests). */
  get size(): number {
    let n = 0;
    for (const waiters of this.waiting.values()) n += waiters.size;
    return n;
  }
}
