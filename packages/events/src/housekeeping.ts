import type { Database } from '@stockgraph/db';
import type { Logger } from '@stockgraph/logger';
import { and, isNotNull, lt } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { EventBus } from './bus.js';
import type { OutboxTable, ProcessedEventsTable } from './tables.js';

export interface Retention {
  /** Published outbox rows and stream entries (acknowledged by every group) older than this go. */
  eventsMs: number;
  /**
   * Processed-event records older than this go. Keep it longer than `eventsMs`: a redelivery can only
   * come from an entry still in the stream, so the record outlives every copy it must recognise.
   */
  processedMs: number;
}

export const DEFAULT_RETENTION: Retention = { eventsMs: 7 * 86_400_000, processedMs: 30 * 86_400_000 };

/**
 * Keeps the event machinery from growing without bound: trims the service's own streams, deletes
 * published outbox rows and old processed-event records. Runs a minute after start, then hourly: not at
 * start, where its deletes would hold up the first requests (on the embedded database, one connection
 * for every service, they queued `pnpm start`'s first answer behind ~300 ms of sweeping).
 */
export function startHousekeeping<TSchema extends Record<string, unknown>>(options: {
  db: Database<TSchema>;
  bus: EventBus;
  outbox?: OutboxTable;
  processed?: ProcessedEventsTable;
  /** Idempotency keys are dropped with the processed-event records: clients retry within minutes. */
  idempotency?: { table: PgTable; createdAt: PgColumn };
  streams: string[];
  logger: Logger;
  retention?: Retention;
  intervalMs?: number;
  firstRunMs?: number;
}): { stop(): void; run(): Promise<void> } {
  const retention = options.retention ?? DEFAULT_RETENTION;
  const run = async () => {
    const now = Date.now();
    const removed: Record<string, number> = {};
    if (options.outbox) {
      const rows = await options.db
        .delete(options.outbox)
        .where(
          and(
            isNotNull(options.outbox.publishedAt),
            lt(options.outbox.publishedAt, new Date(now - retention.eventsMs)),
          ),
        )
        .returning({ id: options.outbox.id });
      removed.outbox = rows.length;
    }
    if (options.processed) {
      const rows = await options.db
        .delete(options.processed)
        .where(lt(options.processed.processedAt, new Date(now - retention.processedMs)))
        .returning({ id: options.processed.eventId });
      removed.processedEvents = rows.length;
    }
    if (options.idempotency) {
      const rows = await options.db
        .delete(options.idempotency.table)
        .where(lt(options.idempotency.createdAt, new Date(now - retention.processedMs)))
        .returning();
      removed.idempotencyKeys = rows.length;
    }
    for (const stream of options.streams)
      removed[`stream:${stream}`] = await options.bus.trim(stream, retention.eventsMs);
    if (Object.values(removed).some((n) => n > 0)) options.logger.info(removed, 'event housekeeping');
  };
  const guarded = () =>
    run().catch((error) => options.logger.warn({ err: error }, 'event housekeeping failed; will retry'));
  const first = setTimeout(() => void guarded(), options.firstRunMs ?? 60_000);
  const timer = setInterval(() => void guarded(), options.intervalMs ?? 3_600_000);
  first.unref();
  timer.unref();
  return {
    stop: () => {
      clearTimeout(first);
      clearInterval(timer);
    },
    run,
  };
}
