import { createLogger } from '@stockgraph/logger';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';

/** The machine's PostgreSQL, as in packages/testkit. */
const TEST_SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The pool figures behind StockgraphDbPoolSaturated, on the machine's PostgreSQL: statements and
 * transactions are counted while they hold (or wait for) a connection, and no longer once settled,
 * failed ones included. Reads only; no database of its own is needed.
 */
const handle = await openDatabase({
  url: TEST_SERVER_URL,
  poolMax: 2,
  schema: {},
  logger: createLogger('pool-usage-test', 'silent'),
});
afterAll(() => handle.close());

/** Resolves once `check` holds; the statements below are held open by a lock, not by time. */
async function until(check: () => boolean) {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

describe('database pool usage', () => {
  it('counts statements and transactions in flight against the pool size, queued ones included', async () => {
    expect(handle.poolUsage()).toEqual({ inFlight: 0, max: 2 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Two transactions held open by the test, and one statement that must queue behind them.
    const transactions = [1, 2].map(() =>
      handle.db.transaction(async (tx) => {
        await tx.execute(sql`select 1`);
        await gate;
      }),
    );
    // Drizzle's query is lazy: `then` sends it.
    const queued = handle.db.execute(sql`select 1`).then((rows) => rows);
    await until(() => handle.poolUsage().inFlight === 3);
    expect(handle.poolUsage()).toEqual({ inFlight: 3, max: 2 });
    release();
    await Promise.all([...transactions, queued]);
    expect(handle.poolUsage().inFlight).toBe(0);
    await expect(handle.db.execute(sql`select * from no_such_table`)).rejects.toThrow();
    expect(handle.poolUsage().inFlight).toBe(0);
  });
});
