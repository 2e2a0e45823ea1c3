/**
 * Lets a placeOrder call wait for its order's outcome. The inventory-stream handler announces each
 * outcome this process commits, which wakes the waiting call at once; the caller's bounded waits
 * between re-reads cover an outcome applied by another replica.
 * One per process, created by the bootstrap hook.
 */
export class OutcomeWaiter {
  private readonly waiting = new Map<string, Set<() => void>>();

  /** Resolves when `orderId`'s outcome is announced or after `ms`, whichever comes first. */
  wait(orderId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.waiting.get(orderId) ?? new Set<() => void>();
      this.waiting.set(orderId, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiting.get(orderId) === waiters) this.waiting.delete(orderId);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      waiters.add(done);
    });
  }

  /** Wakes every call waiting for `orderId`. */
  announce(orderId: string): void {
    for (const done of [...(this.waiting.get(orderId) ?? [])]) done();
  }

  /** Calls now waiting (for shutdown and tests). */
  get size(): number {
    let n = 0;
    for (const waiters of this.waiting.values()) n += waiters.size;
    return n;
  }
}
