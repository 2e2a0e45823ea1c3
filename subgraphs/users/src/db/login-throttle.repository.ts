import { rowsOf, type Database } from '@stockgraph/db';
import { eq, inArray, like, or, sql } from 'drizzle-orm';
import type * as schema from './schema.js';
import { loginThrottle } from './schema.js';

export type LoginThrottleRow = typeof loginThrottle.$inferSelect;

/** How a failure counts and locks: the window counts restart after, the first lock, the longest. */
export interface LockShape {
  windowMs: number;
  baseLockMs: number;
  maxLockMs: number;
}

export class LoginThrottleRepository {
  constructor(private readonly db: Database<typeof schema>) {}

  async states(keys: string[]): Promise<Map<string, LoginThrottleRow>> {
    const rows = await this.db.select().from(loginThrottle).where(inArray(loginThrottle.key, keys));
    return new Map(rows.map((row) => [row.key, row]));
  }

  /**
   * Counts an attempt in one statement (concurrent attempts are all counted) and locks the key once it
   * reaches `threshold`: baseLock × 2^(count − threshold), capped. With `gate`, a key locked right now
   * is left alone and null comes back.
   */
  async hit(key: string, threshold: number, gate: boolean, shape: LockShape): Promise<{ failures: number } | null> {
    const window = `${shape.windowMs} milliseconds`;
    const base = shape.baseLockMs;
    // Every expression reads the row as it is when this statement gets its lock (a CTE or a read
    // before would see an older snapshot and lose concurrent attempts).
    const next = sql`(case when t.window_started_at < now() - ${window}::interval then 1 else t.failures + 1 end)`;
    const result = await this.db.execute(sql`
      insert into users.login_throttle as t (key, failures, window_started_at, locked_until)
      values (${key}, 1, now(), case when ${threshold}::int <= 1 then now() + ${`${base} milliseconds`}::interval end)
      on conflict (key) do update set
        failures = ${next},
        window_started_at =
          case when t.window_started_at < now() - ${window}::interval then now() else t.window_started_at end,
        locked_until = case when ${next} >= ${threshold}::int
          then now() + least(${base}::float8 * power(2, least(${next} - ${threshold}::int, 20)), ${shape.maxLockMs}::float8)
            * interval '1 millisecond'
          else t.locked_until end
      where ${gate ? sql`t.locked_until is null or t.locked_until <= now()` : sql`true`}
      returning failures`);
    const row = rowsOf<{ failures: number }>(result)[0];
    return row ? { failures: Number(row.failures) } : null;
  }

  async remove(key: string): Promise<void> {
    await this.db.delete(loginThrottle).where(eq(loginThrottle.key, key));
  }

  /** Marks `key` until `until` (the "known good source" marks reuse the lock column as their expiry). */
  async mark(key: string, until: Date): Promise<void> {
    await this.db
      .insert(loginThrottle)
      .values({ key, failures: 0, windowStartedAt: new Date(), lockedUntil: until })
      .onConflictDoUpdate({ target: loginThrottle.key, set: { lockedUntil: until } });
  }

  /** Removes these keys; true when any existed. */
  async removeKeys(keys: string[]): Promise<boolean> {
    const removed = await this.db
      .delete(loginThrottle)
      .where(inArray(loginThrottle.key, keys))
      .returning({ key: loginThrottle.key });
    return removed.length > 0;
  }

  /**
   * Deletes up to `limit` rows that hold nothing any more: their counting window ended and their lock
   * (or known-good mark) ran out. Returns how many.
   */
  async purgeExpired(windowMs: number, limit: number): Promise<number> {
    const result = await this.db.execute(sql`
      delete from users.login_throttle where key in (
        select key from users.login_throttle
        where window_started_at < now() - ${`${windowMs} milliseconds`}::interval
          and (locked_until is null or locked_until < now())
        limit ${limit})
      returning key`);
    return rowsOf(result).length;
  }

  /** Removes `key` and every key starting with `prefix`; true when any existed. */
  async removeWithPrefix(key: string, prefix: string): Promise<boolean> {
    const escaped = prefix.replace(/[\\%_]/g, (c) => `\\${c}`);
    const removed = await this.db
      .delete(loginThrottle)
      .where(or(eq(loginThrottle.key, key), like(loginThrottle.key, `${escaped}%`)))
      .returning({ key: loginThrottle.key });
    return removed.length > 0;
  }
}
