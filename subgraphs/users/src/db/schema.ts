import { idColumn, timestamps } from '@stockgraph/db';
import { boolean, pgSchema, text, uniqueIndex } from 'drizzle-orm/pg-core';

export const usersSchema = pgSchema('users');

export const role = usersSchema.enum('role', ['ADMIN', 'MANAGER', 'STAFF', 'VIEWER']);

export const users = usersSchema.table(
  'users',
  {
    id: idColumn(),
    /** Stored lower-cased; unique so one address is one account. */
    email: text('email').notNull(),
    name: text('name').notNull(),
    role: role('role').notNull(),
    active: boolean('active').notNull().default(true),
    /** argon2id PHC string; never selected into GraphQL results. */
    passwordHash: text('password_hash').notNull(),
    ...timestamps,
  },
  (t) => [uniqueIndex('users_email_key').on(t.email)],
);

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;
