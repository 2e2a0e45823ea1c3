import type { Database } from '@stockgraph/db';
import type { Logger } from '@stockgraph/logger';
import { foldAggregates } from '../db/aggregates.repository.js';
import type * as schema from '../db/schema.js';

/** How often the deltas are folded: readers scan the deltas not folded yet, about this long's worth. */
export const FOLD_INTERVAL_MS = 1000;

/**
 * Folds the aggregate deltas into the totals every `intervalMs`, one fold at a time. Placing an order
 * only appends deltas, so no two orders wait on one total row; this one transaction a second does the
 * updating. Readers add the deltas not folded yet, so a fold that fails or lags changes no figure, it
 * only leaves readers more deltas to add.
 */
export function foldAggregatesEvery(db: Database<typeof schema>, logger: Logger, intervalMs = FOLD_INTERVAL_MS) {
  let timer: NodeJS.Timeout | undefined;
  let running = true;
  let folding: Promise<void> = Promise.resolve();
  const schedule = () => {
    if (!running) return;
    timer = setTimeout(() => {
      folding = foldAggregates(db)
        .then(() => undefined)
        .catch((error: unknown) => logger.warn({ err: error }, 'folding the order aggregates failed'))
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    stop: async () => {
      running = false;
      clearTimeout(timer);
      await folding;
    },
  };
}
