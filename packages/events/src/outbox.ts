import type { Database, Tx } from '@stockgraph/db';
import { newId } from '@stockgraph/ids';
import type { Logger } from '@stockgraph/logger';
import { asc, count, inArray, isNull, min, sql } from 'drizzle-orm';
import type { Envelope, EventBus } from './bus.js';
import type { OutboxTable } from './tables.js';

/** An outbox row before it is written. */
export interface OutboxRow {
  id: string;
  stream: string;
  type: string;
  payload: unknown;
}

/** The outbox rows for events, for a statement that writes them together with the change they announce. */
export function outboxRows(stream: string, events: { type: string; payload: unknown }[]): OutboxRow[] {
  return events.map((e) => ({ id: newId(), stream, type: e.type, payload: e.payload }));
}

/** Adds events to the outbox inside the caller's transaction (a `Tx`: the pool would commit them alone). */
export async function enqueue<TSchema extends Record<string, unknown>>(
  tx: Tx<TSchema>,
  outbox: OutboxTable,
  stream: string,
  events: { type: string; payload: unknown }[],
): Promise<void> {
  if (events.length === 0) return;
  await tx.insert(outbox).values(outboxRows(stream, events));
}

export interface Relay {
  /** Publish now rather than at the next tick (call after committing outbox rows). */
  wake(): void;
  /** Events written but not yet published. */
  lag(): Promise<number>;
  /** Events written but not yet published, and how long the oldest of them has waited. */
  backlog(): Promise<{ rows: number; oldestSeconds: number }>;
  stop(): Promise<void>;
}

/**
 * Publishes the outbox in order. Rows are locked with SKIP LOCKED so several replicas share the work;
 * a row is marked published only after the bus took it, so a crash or an unreachable Redis means the
 * row is published again later (consumers deduplicate), never lost.
 */
export function startRelay<TSchema extends Record<string, unknown>>(options: {
  db: Database<TSchema>;
  outbox: OutboxTable;
  bus: EventBus;
  logger: Logger;
  intervalMs?: number;
  batch?: number;
}): Relay {
  const { db, outbox, bus, logger } = options;
  const intervalMs = options.intervalMs ?? 200;
  const batch = options.batch ?? 100;
  let running = true;
  let wakeUp: (() => void) | null = null;
  let woken = false;
  let failures = 0;

  const publishBatch = () =>
    db.transaction(async (tx) => {
      // Losing this commit in a crash only means publishing the rows again, which consumers
      // deduplicate: the relay need not wait for its own fsync.
      await tx.execute(sql`set local synchronous_commit = off`);
      const rows = await tx
        .select()
        .from(outbox)
        .where(isNull(outbox.publishedAt))
        .orderBy(asc(outbox.id))
        .limit(batch)
        .for('update', { skipLocked: true });
      if (rows.length === 0) return 0;
      await bus.publishMany(
        rows.map((row) => ({
          stream: row.stream,
          envelope: {
            id: row.id,
            type: row.type,
            occurredAt: row.createdAt.toISOString(),
            payload: row.payload,
          } satisfies Envelope,
        })),
      );
      await tx
        .update(outbox)
        .set({ publishedAt: new Date() })
        .where(
          inArray(
            outbox.id,
            rows.map((r) => r.id),
          ),
        );
      return rows.length;
    });

  const loop = (async () => {
    while (running) {
      let published = 0;
      // A wake-up that arrives while this batch runs asks for another pass, not for the next tick.
      woken = false;
      try {
        published = await publishBatch();
        if (failures > 0) logger.info('event relay recovered');
        failures = 0;
      } catch (error) {
        failures++;
        if (failures === 1 || failures % 50 === 0)
          logger.warn({ err: error, failures }, 'event relay cannot publish; events wait in the outbox');
      }
      if (failures === 0 && (published === batch || woken)) continue;
      const wait = failures > 0 ? Math.min(intervalMs * 2 ** failures, 5000) : intervalMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = null;
    }
  })();

  return {
    wake: () => {
      woken = true;
      wakeUp?.();
    },
    lag: async () => {
      const [row] = await db.select({ n: count() }).from(outbox).where(isNull(outbox.publishedAt));
      return Number(row?.n ?? 0);
    },
    backlog: async () => {
      const [row] = await db
        .select({ n: count(), oldest: min(outbox.createdAt) })
        .from(outbox)
        .where(isNull(outbox.publishedAt));
      const oldest = row?.oldest ? new Date(row.oldest).getTime() : null;
      return {
        rows: Number(row?.n ?? 0),
        oldestSeconds: oldest === null ? 0 : Math.max(0, (Date.now() - oldest) / 1000),
      };
    },
    stop: async () => {
      running = false;
      wakeUp?.();
      await loop;
    },
  };
}
