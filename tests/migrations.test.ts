import { PGlite } from '@electric-sql/pglite';
import { createTestDatabase, run, type TestDatabase } from '@stockgraph/testkit';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SERVICES = ['users', 'inventory', 'orders', 'customers'];
const migrationFiles = (service: string) =>
  readdirSync(`subgraphs/${service}/src/db/migrations`).filter((f) => f.endsWith('.sql')).length;

const CATALOG = `
  select n.nspname || '.' || c.relname as name, c.relkind::text as kind
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = any($1) and c.relkind in ('r', 'p') and c.relname not like '%\\_20__\\___' escape '\\'
  order by 1`;

let database: TestDatabase;
let sql: postgres.Sql;

beforeAll(async () => {
  database = await createTestDatabase('migrations');
  sql = postgres(database.url, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

describe('db:migrate', () => {
  it('builds every schema on a clean PostgreSQL database and records each migration', async () => {
    const result = await run('scripts/db-migrate.ts', { DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
    expect(result.code, result.stderr).toBe(0);
    for (const service of SERVICES) {
      const [row] = await sql.unsafe(`select count(*)::int as n from "${service}".__drizzle_migrations`);
      expect(row!.n, service).toBe(migrationFiles(service));
    }
    const partitioned =
      await sql`select n.nspname || '.' || c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'p' order by 1`;
    expect(partitioned.map((r) => r.name)).toEqual([
      'inventory.stock_movements',
      'orders.order_items',
      'orders.orders',
    ]);
  });

  it('is a no-op when run again', async () => {
    const before = await sql.unsafe(CATALOG, [SERVICES]);
    const result = await run('scripts/db-migrate.ts', { DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
    expect(result.code, result.stderr).toBe(0);
    expect(await sql.unsafe(CATALOG, [SERVICES])).toEqual(before);
  });

  it('builds the very same tables on the embedded PGlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pglite-migrate-'));
    try {
      const result = await run('scripts/db-migrate.ts', { DATABASE_URL: '', PGLITE_DIR: dir, LOG_LEVEL: 'warn' });
      expect(result.code, result.stderr).toBe(0);
      const pglite = await PGlite.create(dir);
      try {
        const embedded = await pglite.query(CATALOG, [SERVICES]);
        const real = await sql.unsafe(CATALOG, [SERVICES]);
        expect(embedded.rows).toEqual(real.map((r) => ({ ...r })));
      } finally {
        await pglite.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
