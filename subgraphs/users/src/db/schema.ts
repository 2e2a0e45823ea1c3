import { idColumn, timestamps } from '@stockgraph/db';
import { boolean, index, integer, pgSchema, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

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

/** A signed-in device: one refresh-token family. Revoking it ends every token of the family. */
export const sessions = usersSchema.table(
  'sessions',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    revokedReason: text('revoked_reason'),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

/** Refresh tokens are stored as SHA-256 hashes: a database leak does not leak usable tokens. */
export const refreshTokens = usersSchema.table(
  'refresh_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => sessions.id),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** Set when the token is exchanged; a second exchange is a reuse and revokes the session. */
    usedAt: timestamp('used_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('refresh_tokens_session_idx').on(t.sessionId)],
);

/** Failed sign-ins per account and per client address, to slow down password guessing. */
export const loginThrottle = usersSchema.table('login_throttle', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull().default(0),
  windowStartedAt: timestamp('window_started_at', { withTimezone: true, mode: 'date' }).notNull(),
  lockedUntil: timestamp('locked_until', { withTimezone: true, mode: 'date' }),
});

export type SessionRow = typeof sessions.$inferSelect;
