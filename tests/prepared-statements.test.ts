import { openDatabase, rowsOf, type DatabaseHandle } from '@stockgraph/db';
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
});
