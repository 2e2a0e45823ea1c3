import { openDatabase, rowsOf, withGenericPlans, type DatabaseHandle } from '@stockgraph/db';
import { createLogger } from '@stockgraph/logger';
import { createTestDatabase, type TestDatabase } from '@stockgraph/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Statements with parameters go to PostgreSQL as named prepared statements (packages/db/src/prepared.ts):
 * one round trip each once prepared, and a plan the server may keep. Drizzle alone sends them unnamed.
 * `pg_prepared_statements` lists the current session's named statements; a pool of one connection
 * makes every statement of a test run in the session that reads it.
 */
const logger = createLogger('test', 'silent');
let database: TestDatabase;
const opened: DatabaseHandle<Record<string, never>>[] = [];

const open = async (preparedStatements?: boolean) => {
  const handle = await openDatabase({ url: database.url, poolMax: 1, preparedStatements, schema: {}, logger });
  opened.push(handle);
  return handle;
};

/** The named statements of the session whose text mentions `marker`. */
const prepared = async (handle: DatabaseHandle<Record<string, never>>, marker: string) =>
  rowsOf<{ n: number }>(
    await handle.db.execute(
      sql`select count(*)::int as n from pg_prepared_statements where statement like ${`%${marker}%`} and statement not like '%pg_prepared_statements%'`,
    ),
  )[0]!.n;

beforeAll(async () => {
  database = await createTestDatabase('prepared');
});

afterAll(async () => {
  for (const handle of opened) await handle.close();
  await database?.drop();
});

describe('prepared statements', () => {
  it('prepares each statement with parameters once per connection, in and out of transactions', async () => {
    const handle = await open();
    for (let i = 0; i < 3; i++) await handle.db.execute(sql`select ${i}::int as outside_marker`);
    await handle.db.transaction(async (tx) => {
      await tx.execute(sql`select ${1}::int as inside_marker`);
      await tx.transaction((savepoint) => savepoint.execute(sql`select ${2}::int as savepoint_marker`));
    });
    expect(await prepared(handle, 'outside_marker')).toBe(1);
    expect(await prepared(handle, 'inside_marker')).toBe(1);
    expect(await prepared(handle, 'savepoint_marker')).toBe(1);
  });

  it('sends them unnamed with DATABASE_PREPARED_STATEMENTS=false, for poolers that cannot carry them', async () => {
    const handle = await open(false);
    await handle.db.execute(sql`select ${1}::int as unnamed_marker`);
    expect(await prepared(handle, 'unnamed_marker')).toBe(0);
  });

  it('plans the write path once per connection and every other statement for its values, on a partitioned table', async () => {
    const handle = await open();
    await handle.db.execute(sql`create table monthly (id int, at timestamptz not null) partition by range (at);
      create table monthly_1 partition of monthly for values from ('2026-01-01') to ('2026-02-01');
      create table monthly_2 partition of monthly for values from ('2026-02-01') to ('2026-03-01');
      create table monthly_3 partition of monthly for values from ('2026-03-01') to ('2026-04-01')`);
    const lookup = (marker: string) =>
      sql`select count(*) as ${sql.raw(marker)} from monthly where at = ${'2026-02-10'}::timestamptz`;
    const plans = async (marker: string) =>
      rowsOf<{ generic_plans: number; custom_plans: number }>(
        await handle.db.execute(
          sql`select generic_plans::int, custom_plans::int from pg_prepared_statements where statement like ${`%as ${marker} from monthly%`}`,
        ),
      )[0];
    for (let i = 0; i < 8; i++) {
      const mode = await withGenericPlans(handle.db, async (tx) => {
        await tx.execute(lookup('write_marker'));
        return rowsOf<{ mode: string }>(await tx.execute(sql`select current_setting('plan_cache_mode') as mode`))[0]!
          .mode;
      });
      expect(mode).toBe('force_generic_plan');
      await handle.db.execute(lookup('read_marker'));
    }
    expect(await plans('write_marker')).toEqual({ generic_plans: 8, custom_plans: 0 });
    // Under auto, the generic plan's cost counts all three partitions, the custom plan's the one it keeps:
    // outside the write path the setting is the server's again.
    expect(await plans('read_marker')).toEqual({ generic_plans: 0, custom_plans: 8 });
  });
});
