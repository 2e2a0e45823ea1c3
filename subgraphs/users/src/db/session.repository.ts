import { rowsOf, type Database } from '@stockgraph/db';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type * as schema from './schema.js';
import { refreshTokens, sessions, users, type SessionRow } from './schema.js';

export interface RefreshTokenState {
  tokenHash: string;
  usedAt: Date | null;
  session: SessionRow;
  userActive: boolean;
  userRole: 'ADMIN' | 'MANAGER' | 'STAFF' | 'VIEWER';
}

export class SessionRepository {
  constructor(private readonly db: Database<typeof schema>) {}

  async create(session: { id: string; userId: string; expiresAt: Date }, tokenHash: string): Promise<void> {
    await this.db.insert(sessions).values(session);
    await this.db.insert(refreshTokens).values({ tokenHash, sessionId: session.id });
  }

  /** Locks the token row so two concurrent exchanges of one token cannot both succeed. */
  async lockRefreshToken(tokenHash: string): Promise<RefreshTokenState | null> {
    const [row] = await this.db
      .select({ token: refreshTokens, session: sessions, userActive: users.active, userRole: users.role })
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(eq(refreshTokens.tokenHash, tokenHash))
      // Locks the joined session and user rows too (drizzle qualifies `of` with the schema, which Postgres refuses).
      .for('update');
    if (!row) return null;
    return {
      tokenHash: row.token.tokenHash,
      usedAt: row.token.usedAt,
      session: row.session,
      userActive: row.userActive,
      userRole: row.userRole,
    };
  }

  async rotate(oldHash: string, newHash: string, sessionId: string, expiresAt: Date): Promise<void> {
    const now = new Date();
    await this.db.update(refreshTokens).set({ usedAt: now }).where(eq(refreshTokens.tokenHash, oldHash));
    await this.db.insert(refreshTokens).values({ tokenHash: newHash, sessionId });
    await this.db.update(sessions).set({ lastUsedAt: now, expiresAt }).where(eq(sessions.id, sessionId));
  }

  async revoke(sessionId: string, reason: string): Promise<void> {
    await this.db
      .update(sessions)
      .set({ revokedAt: new Date(), revokedReason: reason })
      .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
  }

  /** Ends every live session of a user, optionally sparing one (the caller's own, on password change). */
  async revokeAllOf(userId: string, reason: string, except?: string): Promise<string[]> {
    const ended = await this.db
      .update(sessions)
      .set({ revokedAt: new Date(), revokedReason: reason })
      .where(
        and(
          eq(sessions.userId, userId),
          isNull(sessions.revokedAt),
          except ? sql`${sessions.id} <> ${except}::uuid` : undefined,
        ),
      )
      .returning({ id: sessions.id });
    return ended.map((s) => s.id);
  }

  /** Sessions ended since `since`: republished to the revocation list at start, in case a write was lost. */
  async revokedSince(since: Date): Promise<string[]> {
    const rows = await this.db.select({ id: sessions.id }).from(sessions).where(gt(sessions.revokedAt, since));
    return rows.map((s) => s.id);
  }

  /** True when the session is live and its user active: what an access token's `sid` must still name. */
  async isLive(sessionId: string, userId: string): Promise<boolean> {
    const rows = await this.db
      .select({ id: sessions.id })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(
        and(
          eq(sessions.id, sessionId),
          eq(sessions.userId, userId),
          isNull(sessions.revokedAt),
          gt(sessions.expiresAt, new Date()),
          eq(users.active, true),
        ),
      )
      .limit(1);
    return rows.length > 0;
  }

  /**
   * Deletes up to `limit` sessions that expired or were revoked before `before`, with their refresh
   * tokens, and up to `limit` refresh tokens exchanged before `before` (a session refreshing every
   * quarter of an hour leaves a hundred a day; an old one presented again is refused as unknown).
   * Returns how many rows went.
   */
  async purgeEnded(before: Date, limit: number): Promise<number> {
    const at = before.toISOString();
    const result = await this.db.execute(sql`
      with ended as (
        select id from users.sessions
        where expires_at < ${at}::timestamptz or revoked_at < ${at}::timestamptz
        limit ${limit}
      ), tokens as (
        delete from users.refresh_tokens t using ended where t.session_id = ended.id returning 1
      ), used as (
        delete from users.refresh_tokens where token_hash in (
          select token_hash from users.refresh_tokens where used_at < ${at}::timestamptz limit ${limit})
        returning 1
      ), gone as (
        delete from users.sessions s using ended where s.id = ended.id returning 1
      )
      select (select count(*) from tokens) + (select count(*) from used) + (select count(*) from gone) as n`);
    return Number(rowsOf<{ n: string | number }>(result)[0]?.n ?? 0);
  }
}
