import { dropCachedAnswers } from '@stockgraph/ops';
import type { Output } from './output.js';

/**
 * A command that changes tables around the services (no event tells the gateways' response cache),
 * followed, whatever its outcome (it may have changed rows before it failed), by dropping every cached
 * answer in the cache Redis the gateways share (CACHE_REDIS_URL, else REDIS_URL; REDIS_KEY_PREFIX).
 * Without one configured nothing is said; one that cannot be reached gets a warning, and the answers
 * then go stale only until they expire.
 */
export function changingData<A extends unknown[]>(output: () => Output, action: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await action(...args);
    } finally {
      const outcome = await dropCachedAnswers();
      if (outcome.dropped) output().info("The gateways' cached answers were dropped.");
      else if (!outcome.reason.startsWith('no CACHE_REDIS_URL'))
        process.stderr.write(
          `warning: cached answers not dropped (${outcome.reason}); gateways show the change when they expire\n`,
        );
    }
  };
}
