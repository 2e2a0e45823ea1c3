import { sql } from 'drizzle-orm';
import { index, jsonb, text, timestamp, uuid, type PgSchema } from 'drizzle-orm/pg-core';

/**
 * The transactional outbox: a service writes its state change and the events announcing it in one
 * transaction; the relay publishes them afterwards. Nothing is announced that did not happen, and
 * nothing that happened goes unannounced, whatever crashes in between.
 */
export function outboxTable(schema: PgSchema) {
  return schema.table(
    'outbox',
    {
      id: uuid('id').primaryKey(),
      stream: text('stream').notNull(),
      type: text('type').notNull(),
      payload: jsonb('payload').notNull(),
      createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
      publishedAt: timestamp('published_at', { withTimezone: true, mode: 'date' }),
      /** A relay's lease on the row while it publishes it; another relay may take it once this passes. */
      claimedUntil: timestamp('claimed_until', { withTimezone: true, mode: 'date' }),
    },
    (t) => [
      index('outbox_unpublished_idx')
        .on(t.id)
        .where(sql`published_at is null`),
    ],
  );
}

/** Events a consumer has applied, recorded in the transaction that applied them: at-least-once delivery, exactly-once effect. */
export function processedEventsTable(schema: PgSchema) {
  return schema.table('processed_events', {
    eventId: uuid('event_id').primaryKey(),
    type: text('type').notNull(),
    processedAt: timestamp('processed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  });
}

export type OutboxTable = ReturnType<typeof outboxTable>;
export type ProcessedEventsTable = ReturnType<typeof processedEventsTable>;
