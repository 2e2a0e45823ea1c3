import { baseEnvShape, exitOnConfigError, parseEnv, telemetryEnvShape } from '@stockgraph/config';
import { createLogger } from '@stockgraph/logger';
import { startTelemetry } from '@stockgraph/telemetry';
import type { RunningService } from './service.js';

/**
 * The body of every process entry point: read and validate the environment, start, and stop cleanly
 * on SIGINT/SIGTERM (Kubernetes sends SIGTERM before it kills): /ready says no at once, no new
 * connections are taken, in-flight requests and the event being applied finish, pools close. If that
 * takes longer than SHUTDOWN_TIMEOUT_MS the process exits anyway, with code 1 and a log line saying so.
 * A configuration error prints one message and exits 1. Tracing (OTEL_*) starts first, named after
 * `service` unless OTEL_SERVICE_NAME says otherwise, and its last spans are exported after the stop.
 */
export async function runMain(start: () => Promise<RunningService>, options: { service?: string } = {}): Promise<void> {
  try {
    const { SHUTDOWN_TIMEOUT_MS, LOG_LEVEL, ...otel } = parseEnv(options.service ?? 'shutdown', {
      SHUTDOWN_TIMEOUT_MS: baseEnvShape.SHUTDOWN_TIMEOUT_MS,
      LOG_LEVEL: baseEnvShape.LOG_LEVEL,
      ...telemetryEnvShape,
    });
    const telemetry = await startTelemetry(otel, options.service ?? 'stockgraph');
    const service = await start();
    const logger = createLogger('shutdown', LOG_LEVEL);
    let stopping = false;
    const shutdown = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      const started = Date.now();
      logger.info({ signal, timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutting down');
      setTimeout(() => {
        logger.error(
          { timeoutMs: SHUTDOWN_TIMEOUT_MS },
          'shutdown took longer than SHUTDOWN_TIMEOUT_MS; exiting anyway',
        );
        process.exit(1);
      }, SHUTDOWN_TIMEOUT_MS).unref();
      service.stop().then(
        async () => {
          await telemetry.shutdown();
          logger.info({ ms: Date.now() - started }, 'stopped');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, shutdown);
  } catch (error) {
    exitOnConfigError(error);
  }
}
