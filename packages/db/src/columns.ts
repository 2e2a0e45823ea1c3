import { timestamp, uuid } from 'drizzle-orm/pg-core';

/** Ids are UUIDv7 made by the application (PostgreSQL 15 has no uuidv7()), so no database default. */
export const idColumn = () => uuid('id').primaryKey();

export const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
};
