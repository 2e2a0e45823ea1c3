import { exitOnConfigError } from '@stockgraph/config';
import type { RunningService } from './service.js';

/**
 * The body of every process entry point: read and validate the environment, start, and stop cleanly
 * on SIGINT/SIGTERM so in-flight requests finish (Kubernetes sends SIGTERM before it kills).
 * A configuration error prints one message and exits 1.
 */
export async function runMain(start: () => Promise<RunningService>): Promise<void> {
  try {
    const service = await start();
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => void service.stop().then(() => process.exit(0)));
    }
  } catch (error) {
    exitOnConfigError(error);
  }
}
