import { setTimeout as sleepFor } from 'node:timers/promises';

export interface FollowOptions<T> {
  /** Reads the next batch, waiting for one as long as it likes (a blocking read). */
  next(): Promise<T>;
  /** Takes one batch; nothing more is read until it is done. A throw counts as a failed read. */
  handle(batch: T): void | Promise<void>;
  /** The wait after the n-th failure in a row: firstMs, doubling each time, at most maxMs. */
  retry: { firstMs: number; maxMs: number };
  /** Each failure while running, with how many in a row so far (1: an outage begins). */
  onError(error: unknown, failures: number): void;
  /** The first batch handled after `failures` failures in a row. */
  onRecovered?(failures: number): void;
  /** How to wait between failures; it ends early when `signal` aborts. Tests pass their own. */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
}

export interface FollowLoop {
  /** Ends the loop: a wait between failures is cut short, a read under way is waited for and not handled. */
  stop(): Promise<void>;
}

const realSleep = (ms: number, signal: AbortSignal) => sleepFor(ms, undefined, { signal }).catch(() => undefined);

/**
 * Follows a stream (or anything read in batches): reads a batch, hands it over, reads the next, in
 * order and one at a time, until stopped. A failure to read or handle is reported and retried after
 * a bounded exponential wait; what the reader and handler keep (a position, a group) is theirs.
 */
export function follow<T>(options: FollowOptions<T>): FollowLoop {
  const { firstMs, maxMs } = options.retry;
  const sleep = options.sleep ?? realSleep;
  const stopping = new AbortController();
  const stopped = stopping.signal;
  const loop = (async () => {
    let failures = 0;
    while (!stopped.aborted) {
      try {
        const batch = await options.next();
        if (stopped.aborted) return;
        await options.handle(batch);
        if (failures > 0) options.onRecovered?.(failures);
        failures = 0;
      } catch (error) {
        if (stopped.aborted) return;
        failures++;
        options.onError(error, failures);
        await sleep(Math.min(firstMs * 2 ** Math.min(failures - 1, 30), maxMs), stopped);
      }
    }
  })();
  return {
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}
