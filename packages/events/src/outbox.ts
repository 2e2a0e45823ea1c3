import { rowsOf, textArray, type Database, type Tx } from '@stockgraph/db';
import { newId } from '@stockgraph/ids';
import type { Logger } from '@stockgraph/logger';
import { count, isNull, min, sql } from 'drizzle-orm';
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

/** How long a relay holds the rows it took: longer than any publish takes, short enough to wait out a dead relay. */
const LEASE = '30 seconds';

interface RawOutboxRow {
  id: string;
  stream: string;
  type: string;
  payload: unknown;
  created_at: Date | string;
}

/**
 * Publishes the outbox in id order. Each pass is one statement: it marks the previous pass's rows
 * published and takes the next batch under a lease (SKIP LOCKED, so several replicas share the work).
 * Rows are marked only after the bus took them, so a crash or an unreachable Redis means they are
 * published again later (consumers deduplicate), never lost; a relay that dies holding a lease delays
 * its rows by LEASE at most.
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
  /** Rows the bus took whose marking waits for the next statement. */
  let published: string[] = [];

  const markPublished = (ids: string[]) =>
    ids.length === 0
      ? sql`select 1`
      : sql`update ${outbox} set published_at = now() where id = any(${textArray(ids)}::uuid[])`;

  const publishBatch = async () => {
    const done = published;
    const result = await db.execute(sql`
      with marked as (${markPublished(done)}), next as (
        select id from ${outbox}
        where published_at is null and (claimed_until is null or claimed_until < now())
        order by id limit ${batch} for update skip locked
      )
      update ${outbox} o set claimed_until = now() + ${LEASE}::interval from next
      where o.id = next.id
      returning o.id, o.stream, o.type, o.payload, o.created_at`);
    published = [];
    const rows = rowsOf<RawOutboxRow>(result).sort((a, b) => (a.id < b.id ? -1 : 1));
    if (rows.length === 0) return 0;
    try {
      await bus.publishMany(
        rows.map((row) => ({
          stream: row.stream,
          envelope: {
            id: row.id,
            type: row.type,
            occurredAt: new Date(row.created_at).toISOString(),
            payload: typeof row.payload === 'string' ? (JSON.parse(row.payload) as unknown) : row.payload,
          } satisfies Envelope,
        })),
      );
    } catch (error) {
      // Give the rows back, so the retry (or another replica) need not wait out the lease.
      const ids = textArray(rows.map((r) => r.id));
      await db
        .execute(sql`update ${outbox} set claimed_until = null where id = any(${ids}::uuid[])`)
        .catch(() => undefined);
      throw error;
    }
    published = rows.map((r) => r.id);
    return rows.length;
  };

  const loop = (async () => {
    while (running) {
      let sent = 0;
      // A wake-up that arrives while this batch runs asks for another pass, not for the next tick.
      woken = false;
      try {
        sent = await publishBatch();
        if (failures > 0) logger.info('event relay recovered');
        failures = 0;
      } catch (error) {
        failures++;
        if (failures === 1 || failures % 50 === 0)
          logger.warn({ err: error, failures }, 'event relay cannot publish; events wait in the outbox');
      }
      if (failures === 0 && (sent === batch || woken)) continue;
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
      // The last pass's rows, published but not marked yet: marked now, or published again after a restart.
      if (published.length > 0) await db.execute(markPublished(published)).catch(() => undefined);
    },
  };
}
