import { randomBytes } from 'node:crypto';
import { createTestDatabase, run, startProcess, TEST_SERVER_URL, type TestDatabase } from '@stockgraph/testkit';
import { SUBGRAPH_NAMES as SUBGRAPHS, serviceDatabaseUrlVariable, subgraphEntry } from '@stockgraph/registry';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `db:migrate --create-roles`: one login role per subgraph that owns its schema and nothing else.
 * Roles are global to the server, so this run's roles carry a random suffix and are dropped after.
 */
const suffix = randomBytes(3).toString('hex');
const roleOf = (name: string) => `sgtest_${name}_${suffix}`;
let database: TestDatabase;

function urlAs(role: string, password: string): string {
  const url = new URL(database.url);
  url.username = role;
  url.password = password;
  return url.toString();
}

beforeAll(async () => {
  database = await createTestDatabase('roles');
  const serviceUrls = Object.fromEntries(
    SUBGRAPHS.map((n) => [serviceDatabaseUrlVariable(subgraphEntry(n)), urlAs(roleOf(n), `pw-${n}`)]),
  );
  const migrated = await run(
    'scripts/db-migrate.ts',
    { DATABASE_URL: database.url, ...serviceUrls, LOG_LEVEL: 'warn' },
    ['--create-roles'],
  );
  expect(migrated.code, migrated.stderr + migrated.stdout).toBe(0);
});

afterAll(async () => {
  await database?.drop();
  const admin = postgres(TEST_SERVER_URL, { max: 1, onnotice: () => {} });
  try {
    for (const n of SUBGRAPHS) await admin.unsafe(`drop role if exists "${roleOf(n)}"`);
  } finally {
    await admin.end();
  }
});

describe('per-subgraph database roles', () => {
  it('lets the orders role use its own schema and not read the customers schema', async () => {
    const orders = postgres(urlAs(roleOf('orders'), 'pw-orders'), { max: 1, onnotice: () => {} });
    try {
      const [own] = await orders`select count(*)::int as n from orders.orders`;
      expect(own!.n).toBe(0);
      await expect(orders`select * from customers.customers limit 1`).rejects.toThrow(
        /permission denied for schema customers/,
      );
      await expect(orders`select * from users.users limit 1`).rejects.toThrow(/permission denied for schema users/);
      const [owner] =
        await orders`select nspowner::regrole::text as owner from pg_namespace where nspname = 'customers'`;
      expect(owner!.owner).toBe(roleOf('customers'));
    } finally {
      await orders.end();
    }
  });

  it('hands every object of a schema, partitions included, to its role', async () => {
    const admin = postgres(database.url, { max: 1 });
    try {
      const foreign = await admin`
        select n.nspname || '.' || c.relname as object, c.relowner::regrole::text as owner
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname in ('users', 'inventory', 'orders', 'customers') and c.relkind in ('r', 'p', 'S', 'v')
          and c.relowner::regrole::text <> 'sgtest_' || n.nspname || '_' || ${suffix}`;
      expect(foreign).toEqual([]);
    } finally {
      await admin.end();
    }
  });

  it('is enough for a subgraph to start, migrate and serve as its role', async () => {
    const orders = await startProcess('subgraphs/orders/src/server.ts', {
      PORT: '0',
      DATABASE_URL: urlAs(roleOf('orders'), 'pw-orders'),
      DATABASE_POOL_MAX: '2',
      SEED_DEMO_DATA: 'false',
    });
    try {
      const ready = await fetch(new URL('/ready', orders.url));
      expect(ready.status).toBe(200);
    } finally {
      await orders.stop();
    }
  });
});
