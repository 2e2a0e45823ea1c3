import { sql } from 'drizzle-orm';
import type { Database, Tx } from './database.js';

const GENERIC_PLANS = sql`set local plan_cache_mode = force_generic_plan`;

/**
 * Runs `work` in a transaction whose statements, and the queries their triggers and foreign keys run,
 * are planned once per connection rather than on every execution. Under PostgreSQL's default (`auto`)
 * a prepared statement that touches a partitioned table is custom-planned every time: the generic
 * plan's estimate counts every partition, so it never wins. For the order path's lookups by key the
 * generic plan is as good (partitions are pruned when it runs), and under bench:orders planning the
 * order's decision took as long as running it (0.16 ms each per order). Reads over ranges of
 * time need plans made for their values (with generic plans everywhere, bench:scale's dashboard took
 * five times as long), so only writes by key take this. The setting is sent together with the first
 * statement of `work`, not awaited alone: no round trip of its own.
 */
export async function withGenericPlans<TSchema extends Record<string, unknown>, T>(
  db: Database<TSchema>,
  work: (tx: Tx<TSchema>) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    // A failed SET aborts the transaction, so `work` fails too; kept as a value, it is never unhandled.
    const setting = tx.execute(GENERIC_PLANS).then(
      () => null,
      (error: unknown) => error,
    );
    const result = await work(tx);
    const failed = await setting;
    if (failed) throw failed;
    return result;
  });
}
