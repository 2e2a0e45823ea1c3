import { bigint, index, pgSchema, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** The gateway's own store: nothing of a subgraph's lives here, so it may sit in any database. */
export const usageSchema = pgSchema('usage');

/**
 * How often each client version used each schema coordinate, one row per UTC hour. Rows are merged
 * by upsert (the recorders of every gateway replica add into the same row) and deleted once older
 * than the retention, so the table holds at most retention × clients × coordinates rows.
 */
export const coordinateUsage = usageSchema.table(
  'coordinate_usage',
  {
    /** The start of the UTC hour the operations were served in. */
    hour: timestamp('hour', { withTimezone: true, mode: 'date' }).notNull(),
    clientName: text('client_name').notNull(),
    clientVersion: text('client_version').notNull(),
    /** A schema coordinate: `Type.field`, `Type.field(arg:)`, `Input.field` or `Enum.VALUE`. */
    coordinate: text('coordinate').notNull(),
    /** Operations that used it, estimated from the samples: samples ÷ the recorder's sample rate. */
    count: bigint('count', { mode: 'number' }).notNull(),
    /** Operations actually sampled; equal to count when every operation is recorded. */
    samples: bigint('samples', { mode: 'number' }).notNull(),
    lastSeen: timestamp('last_seen', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    // Coordinate first: schema:check asks "who used these coordinates", the question this table is for.
    primaryKey({ columns: [t.coordinate, t.clientName, t.clientVersion, t.hour] }),
    // Retention deletes and the report's window read by hour.
    index('coordinate_usage_hour_idx').on(t.hour),
  ],
);

export type CoordinateUsageRow = typeof coordinateUsage.$inferSelect;
