import { hostname } from 'node:os';
import { withGenericPlans, type Database, type Tx } from '@stockgraph/db';
import type { Logger } from '@stockgraph/logger';
import type { Delivery, Envelope, EventBus } from './bus.js';
import { follow } from './follow.js';
import { isMissingGroup } from './missing-group.js';
import type { ProcessedEventsTable } from './tables.js';
import { deadLetterStream, UnprocessableEvent, type ParkedEvent } from './unprocessable.js';
import { newId } from '@stockgraph/ids';

export interface ConsumerOptions<TSchema extends Record<string, unknown>> {
  db: Database<TSchema>;
  bus: EventBus;
  processed: ProcessedEventsTable;
  stream: string;
  group: string;
  /** Unique per process; defaults to host and pid. */
  consumer?: string;
  /** Applies one event inside the transaction that records it as processed. */
  handle: (envelope: Envelope, tx: Tx<TSchema>) => Promise<void>;
  /**
   * Whether `handle` can change anything for an event of this type (default: every type). Events it
   * cannot are acknowledged without a transaction or a processed-events record: on the order path a
   * consumer ignores most of what its stream carries (orders, the three StockChanged of an order's
   * lines), and recording each cost a row and, for a read of nothing else, a commit.
   */
  applies?: (type: string) => boolean;
  logger: Logger;
  /** Pending deliveries idle this long belong to a dead consumer and are taken over. */
  claimIdleMs?: number;
  /** Called after each commit, before the acknowledgement (relay wake-ups; crash tests). */
  afterCommit?: (delivery: Delivery) => void | Promise<void>;
  /** Called for each event parked on the dead-letter stream (the parked-events metric). */
  onParked?: (parked: ParkedEvent) => void;
}

export interface Consumer {
  stop(): Promise<void>;
}

/**
 * Applies a stream's events exactly once in effect: each is recorded in `processed_events` in the
 * transaction that applies it (a redelivery finds the record and changes nothing), acknowledged only
 * after that commit, and re-claimed from a consumer that died before acknowledging. Handlers apply
 * events by key, so their transactions use generic plans (`withGenericPlans`).
 */
export function startConsumer<TSchema extends Record<string, unknown>>(options: ConsumerOptions<TSchema>): Consumer {
  const { db, bus, processed, stream, group, handle, logger } = options;
  const consumer = options.consumer ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const claimIdleMs = options.claimIdleMs ?? 15_000;
  let running = true;
  let lastClaim = 0;

  /**
   * Parks an event no retry can apply, then lets it be acknowledged: the stream moves on, and the
   * event with its reason waits on the dead-letter stream. If that publish fails the delivery stays
   * pending and is parked on a later claim.
   */
  const park = async (delivery: Delivery, error: UnprocessableEvent) => {
    const parked: ParkedEvent = { stream, group, kind: error.kind, reason: error.reason, envelope: delivery.envelope };
    await bus.publish(deadLetterStream(stream), {
      id: newId(),
      type: 'EventParked',
      occurredAt: new Date().toISOString(),
      payload: parked,
    });
    logger.warn(
      { stream, group, event: delivery.envelope.type, eventId: delivery.envelope.id, reason: error.reason },
      'event cannot be applied; parked on the dead-letter stream',
    );
    options.onParked?.(parked);
  };

  /** Records `envelope` as processed and applies it, unless an earlier delivery already did. */
  const applyIn = async (tx: Tx<TSchema>, envelope: Envelope) => {
    const fresh = await tx
      .insert(processed)
      .values({ eventId: envelope.id, type: envelope.type })
      .onConflictDoNothing()
      .returning({ id: processed.eventId });
    if (fresh.length > 0) await handle(envelope, tx);
  };

  /** After the commit: park what could not be read, run the hook, then acknowledge. */
  const settle = async (delivery: Delivery, unprocessable: UnprocessableEvent | null) => {
    if (unprocessable) await park(delivery, unprocessable);
    await options.afterCommit?.(delivery);
  };

  const applies = options.applies ?? (() => true);

  /** One event in its own transaction: the fallback when a batch could not apply it. */
  const applyOne = async (delivery: Delivery) => {
    let unprocessable: UnprocessableEvent | null = null;
    try {
      if (applies(delivery.envelope.type)) await withGenericPlans(db, (tx) => applyIn(tx, delivery.envelope));
    } catch (error) {
      if (!(error instanceof UnprocessableEvent)) throw error;
      unprocessable = error;
    }
    await settle(delivery, unprocessable);
    await bus.ack(stream, group, [delivery.deliveryId]);
  };

  const leavePending = (delivery: Delivery, error: unknown) =>
    // Left pending: claimed and retried once it has been idle for claimIdleMs.
    logger.error(
      { err: error, event: delivery.envelope.type, eventId: delivery.envelope.id },
      'event not applied; will retry',
    );

  /**
   * Applies a read's worth of events in one transaction: one statement records them all as processed
   * (those recorded already were applied by an earlier delivery and are skipped), then each is applied,
   * and one commit (one fsync) covers the lot. No savepoint per event: they cost two round trips each on
   * the hot path. If any event fails, the whole batch rolls back and each is retried alone, where an
   * unreadable one is parked and a failing one left pending. Acknowledgements follow the commit, so a
   * crash in between redelivers events whose records make the second application a no-op.
   */
  const applyBatch = async (deliveries: Delivery[]) => {
    const events = [
      ...new Map(deliveries.filter((d) => applies(d.envelope.type)).map((d) => [d.envelope.id, d.envelope])).values(),
    ];
    if (events.length > 0)
      try {
        await withGenericPlans(db, async (tx) => {
          const fresh = await tx
            .insert(processed)
            .values(events.map((e) => ({ eventId: e.id, type: e.type })))
            .onConflictDoNothing()
            .returning({ id: processed.eventId });
          const unseen = new Set(fresh.map((r) => r.id));
          for (const envelope of events) if (unseen.has(envelope.id)) await handle(envelope, tx);
        });
      } catch (error) {
        if (!(error instanceof UnprocessableEvent))
          logger.warn(
            { err: error, stream, group, events: deliveries.length },
            'event batch failed; applying one by one',
          );
        for (const delivery of deliveries) {
          if (!running) return;
          await applyOne(delivery).catch((failure: unknown) => leavePending(delivery, failure));
        }
        return;
      }
    const acknowledged: string[] = [];
    for (const delivery of deliveries) {
      try {
        await settle(delivery, null);
        acknowledged.push(delivery.deliveryId);
      } catch (error) {
        leavePending(delivery, error);
      }
    }
    await bus.ack(stream, group, acknowledged);
  };

  let grouped = false;
  const loop = follow({
    next: async () => {
      if (!grouped) {
        await bus.ensureGroup(stream, group);
        grouped = true;
      }
      if (Date.now() - lastClaim > Math.min(claimIdleMs, 5000)) {
        lastClaim = Date.now();
        const claimed = await bus.claim(stream, group, consumer, claimIdleMs, 50);
        if (claimed.length > 0) return claimed;
      }
      return bus.read(stream, group, consumer, 50, 1000);
    },
    handle: async (deliveries) => {
      if (deliveries.length > 0) await applyBatch(deliveries);
    },
    retry: { firstMs: 400, maxMs: 5000 },
    onError: (error, failures) => {
      if (isMissingGroup(error)) grouped = false;
      if (failures === 1 || failures % 50 === 0)
        logger.warn({ err: error, stream, group, failures }, 'event consumer cannot read; retrying');
    },
    onRecovered: () => logger.info({ stream, group }, 'event consumer recovered'),
  });

  return {
    stop: async () => {
      running = false;
      await loop.stop();
    },
  };
}
