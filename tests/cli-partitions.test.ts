import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { newId } from '@stockgraph/ids';
import { graphql, startStack, type Stack, type UntypedData } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query, stockgraph } from './cli-support.js';

let dir: string;
let stack: Stack | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sg-cli-partitions-'));
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const monthStart = (monthsAgo: number) => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - monthsAgo, 1));
};
const suffix = (d: Date) => `${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;

const ORDERS = `query ($filter: OrderFilter) {
  orders(filter: $filter, first: 5) { totalCount edges { node { id createdAt items { quantity } } } }
}`;

type Gql = (query: string, variables?: Record<string, unknown>) => Promise<UntypedData>;

/** How many orders a list returns, paging 100 at a time to its end. */
async function listed(gql: Gql, filter: Record<string, unknown>): Promise<number> {
  let n = 0;
  let after: string | null = null;
  for (;;) {
    const { orders } = await gql(
      'query ($f: OrderFilter, $after: String) { orders(filter: $f, first: 100, after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } } }',
      { f: filter, after },
    );
    n += orders.edges.length;
    if (!orders.pageInfo.hasNextPage) return n;
    after = orders.pageInfo.endCursor;
  }
}

interface Status {
  retention: { months: number | null; cutoff: string | null };
  subgraphs: {
    subgraph: string;
    partitionedTables: { table: string; partitions: { name: string }[]; defaultRows: number }[];
    archive?: {
      schema: string;
      partitions: { name: string; rows: number; export: { file: string; current: boolean } | null }[];
      wouldArchive: string[];
    };
  }[];
}

// Each lifecycle case runs a dozen CLI processes, each a cold Node start, against a whole stack: 45 s alone
// on this machine, and twice that beside other test files. The bound is for a hang, not for speed.
describe('stockgraph partitions', { timeout: 300_000 }, () => {
  it('refuses bad flags and a bad retention setting as misuse (exit 2)', async () => {
    const env = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing' };
    const cases = [
      ['partitions', 'archive', '--older-than', 'soon'],
      ['partitions', 'archive', '--older-than', '0'],
      ['partitions', 'export'],
      ['partitions', 'drop', '--bogus'],
      ['partitions', 'move-default', 'extra'],
    ];
    for (const args of cases) {
      const result = await stockgraph(args, env);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
    }
    const badSetting = await stockgraph(['partitions', 'archive'], { ...env, PARTITION_RETENTION_MONTHS: 'a year' });
    expect(badSetting.code).toBe(2);
    expect(badSetting.stderr).toMatch(/PARTITION_RETENTION_MONTHS/);
    const unset = await stockgraph(['partitions', 'archive'], { ...env, PARTITION_RETENTION_MONTHS: undefined });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toMatch(/--older-than N or set PARTITION_RETENTION_MONTHS/);
  });

  it('archives old months out of live reads, serves them on request, exports, refuses then drops', async () => {
    stack = await startStack();
    const env = { DATABASE_URL: stack.database.url, PARTITION_RETENTION_MONTHS: '12' };
    const url = stack.database.url;
    const manager = await stack.as('MANAGER');
    const cutoff = monthStart(12);
    const [old] = await query<{ n: string; id: string; month: string }>(
      url,
      `select count(*)::text as n, (array_agg(id order by created_at))[1]::text as id,
        to_char(min(created_at) at time zone 'UTC', 'YYYY_MM') as month
       from orders.orders where created_at < '${cutoff.toISOString()}'`,
    );
    expect(Number(old!.n)).toBeGreaterThan(0);
    const oldFilter = { createdTo: cutoff.toISOString() };
    const before = await graphql(stack.gateway.url, ORDERS, { filter: oldFilter }, manager);
    expect(before.data.orders.edges.length).toBeGreaterThan(0);

    const gql: Gql = async (q, variables = {}) => {
      const result = await graphql(stack!.gateway.url, q, variables, manager);
      expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
      return result.data;
    };
    const totalCount = async (filter: Record<string, unknown>) =>
      (await gql('query ($f: OrderFilter) { orders(filter: $f, first: 1) { totalCount } }', { f: filter })).orders
        .totalCount as number;
    // A customer with orders on both sides of the cutoff.
    const [mixed] = await query<{ id: string; archived: string }>(
      url,
      `select customer_id::text as id, (count(*) filter (where created_at < '${cutoff.toISOString()}'))::text as archived
       from orders.orders group by customer_id
       having min(created_at) < '${cutoff.toISOString()}' and max(created_at) >= '${cutoff.toISOString()}'
       order by 2 desc limit 1`,
    );
    const liveFilters = [
      {},
      { status: 'FULFILLED' },
      { customerId: mixed!.id },
      { customerId: mixed!.id, status: 'FULFILLED' },
      // A range covering the archived months and some live ones, with partial first and last days.
      {
        createdFrom: new Date(monthStart(16).getTime() + 5.5 * 3_600_000).toISOString(),
        createdTo: new Date(monthStart(9).getTime() + 13 * 3_600_000).toISOString(),
      },
      { createdFrom: monthStart(16).toISOString(), createdTo: monthStart(9).toISOString(), status: 'CANCELLED' },
    ];
    const totalsBefore = await Promise.all(liveFilters.map(totalCount));

    const statusBefore = JSON.parse((await stockgraph(['--json', 'db', 'status'], env)).stdout) as Status;
    expect(statusBefore.retention.months).toBe(12);
    const ordersBefore = statusBefore.subgraphs.find((s) => s.subgraph === 'orders')!;
    expect(ordersBefore.archive!.wouldArchive).toContain(`orders_${old!.month}`);
    expect(ordersBefore.archive!.partitions).toEqual([]);

    const archived = await stockgraph(['--json', 'partitions', 'archive'], env);
    expect(archived.code, archived.stderr).toBe(0);
    const names = (JSON.parse(archived.stdout).groups as { subgraph: string; archived: string[] }[]).flatMap(
      (g) => g.archived,
    );
    expect(names).toContain(`orders_${old!.month}`);
    expect(names).toContain(`order_items_${old!.month}`);
    expect(names).toContain(`orders_${suffix(monthStart(13))}`);
    // Only months wholly older than 12 months: the 12th month back stays live.
    expect(names).not.toContain(`orders_${suffix(monthStart(12))}`);
    // The stock ledger stays whole: stock is checked and rebuilt from every movement.
    expect(names.some((n) => n.startsWith('stock_movements_'))).toBe(false);

    const [liveOld] = await query<{ n: string }>(
      url,
      `select count(*)::text as n from orders.orders where created_at < '${cutoff.toISOString()}'`,
    );
    expect(liveOld!.n).toBe('0');

    // The counters left with the archived months, in the archive's transaction: every live totalCount is
    // what its list returns, and the check agrees with the live rows.
    const afterArchive = await stockgraph(['aggregates', 'check'], env);
    expect(afterArchive.code, afterArchive.stdout + afterArchive.stderr).toBe(0);
    const totalsAfter: number[] = [];
    for (const filter of liveFilters) {
      const total = await totalCount(filter);
      expect(total, JSON.stringify(filter)).toBe(await listed(gql, filter));
      totalsAfter.push(total);
    }
    expect(totalsAfter[0]).toBe(totalsBefore[0]! - Number(old!.n));
    expect(totalsAfter[2]).toBe(totalsBefore[2]! - Number(mixed!.archived));
    expect(totalsAfter[4]).toBeLessThan(totalsBefore[4]!);
    const customer = await gql(
      'query ($id: ID!) { customer(id: $id) { orderCount orders(first: 1) { totalCount } } }',
      {
        id: mixed!.id,
      },
    );
    expect(customer.customer.orderCount).toBe(totalsAfter[2]);
    expect(customer.customer.orders.totalCount).toBe(totalsAfter[2]);
    expect(await totalCount({ archived: true, customerId: mixed!.id })).toBe(Number(mixed!.archived));

    // Live reads no longer see the archived months; asking for the archive does, with items, and by id.
    const live = await graphql(stack.gateway.url, ORDERS, { filter: oldFilter }, manager);
    expect(live.errors).toBeUndefined();
    expect(live.data.orders.edges).toEqual([]);
    const fromArchive = await graphql(stack.gateway.url, ORDERS, { filter: { archived: true } }, manager);
    expect(fromArchive.errors).toBeUndefined();
    expect(fromArchive.data.orders.totalCount).toBe(Number(old!.n));
    expect(fromArchive.data.orders.edges.length).toBe(5);
    for (const edge of fromArchive.data.orders.edges) {
      expect(new Date(edge.node.createdAt).getTime()).toBeLessThan(cutoff.getTime());
      expect(edge.node.items.length).toBeGreaterThan(0);
    }
    const byId = await graphql(
      stack.gateway.url,
      'query ($id: ID!) { order(id: $id) { id items { quantity product { sku } } } }',
      { id: old!.id },
      manager,
    );
    expect(byId.errors).toBeUndefined();
    expect(byId.data.order.id).toBe(old!.id);
    expect(byId.data.order.items.length).toBeGreaterThan(0);

    // The archive keeps partition pruning: a month's range touches that month's partition only.
    const plan = await query<{ 'QUERY PLAN': string }>(
      url,
      `explain select * from orders_archive.orders where created_at >= '${monthStart(13).toISOString()}' and created_at < '${monthStart(12).toISOString()}'`,
    );
    const scanned = new Set(
      plan
        .map((r) => r['QUERY PLAN'])
        .join('\n')
        .match(/ on orders_\d{4}_\d{2}\b/g),
    );
    expect([...scanned]).toEqual([` on orders_${suffix(monthStart(13))}`]);

    // Drop refuses what was never exported, and drops nothing.
    const month = `orders_${old!.month}`;
    const refused = await stockgraph(['partitions', 'drop', '--partition', month], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`orders_archive\\.${month}: never exported`));
    expect(refused.stderr).toMatch(/nothing was dropped/);
    const unknown = await stockgraph(['partitions', 'drop', '--partition', 'orders_1999_01'], env);
    expect(unknown.code).toBe(2);

    // Export only the orders partition: its items of the same month are not, so the month is still refused.
    const exportDir = join(dir, 'exports');
    const exportedOne = await stockgraph(
      ['--json', 'partitions', 'export', '--to', exportDir, '--partition', month],
      env,
    );
    expect(exportedOne.code, exportedOne.stderr).toBe(0);
    const halfRefused = await stockgraph(['partitions', 'drop', '--partition', month], env);
    expect(halfRefused.code).toBe(1);
    expect(halfRefused.stderr).toMatch(new RegExp(`order_items_${old!.month}: never exported`));

    const exportedAll = await stockgraph(['--json', 'partitions', 'export', '--to', exportDir], env);
    expect(exportedAll.code, exportedAll.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(exportDir, 'manifest.json'), 'utf8')) as {
      format: string;
      partitions: { partition: string; file: string; rows: number; sha256: string }[];
    };
    expect(manifest.format).toBe('stockgraph-partitions/1');
    const entry = manifest.partitions.find((p) => p.partition === month)!;
    const file = readFileSync(join(exportDir, entry.file));
    expect(createHash('sha256').update(file).digest('hex')).toBe(entry.sha256);
    expect(file.toString('utf8').split('\n').filter(Boolean).length).toBe(entry.rows);
    const [inPartition] = await query<{ n: string }>(url, `select count(*)::text as n from orders_archive.${month}`);
    expect(entry.rows).toBe(Number(inPartition!.n));
    expect(manifest.partitions.map((p) => p.partition)).toEqual(expect.arrayContaining(names));

    const statusExported = JSON.parse((await stockgraph(['--json', 'db', 'status'], env)).stdout) as Status;
    const archive = statusExported.subgraphs.find((s) => s.subgraph === 'orders')!.archive!;
    expect(archive.partitions.find((p) => p.name === month)!.export!.current).toBe(true);
    expect(archive.wouldArchive).toEqual([]);

    const dropped = await stockgraph(['--json', 'partitions', 'drop', '--partition', month], env);
    expect(dropped.code, dropped.stderr).toBe(0);
    expect(JSON.parse(dropped.stdout).dropped.sort()).toEqual(
      [`orders_archive.order_items_${old!.month}`, `orders_archive.${month}`].sort(),
    );
    const [gone] = await query<{ o: string | null; i: string | null }>(
      url,
      `select to_regclass('orders_archive.${month}')::text as o, to_regclass('orders_archive.order_items_${old!.month}')::text as i`,
    );
    expect(gone).toEqual({ o: null, i: null });
    // The dropped month had left the counters when it was archived: dropping it changes no live figure.
    const checked = await stockgraph(['aggregates', 'check'], env);
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    for (const [i, filter] of liveFilters.entries())
      expect(await totalCount(filter), JSON.stringify(filter)).toBe(totalsAfter[i]);
    const [archiveLeft] = await query<{ n: string }>(url, 'select count(*)::text as n from orders_archive.orders');
    const stillArchived = await graphql(stack.gateway.url, ORDERS, { filter: { archived: true } }, manager);
    expect(stillArchived.data.orders.totalCount).toBe(Number(archiveLeft!.n));
    expect(stillArchived.data.orders.totalCount).toBeLessThan(Number(old!.n));
  });

  it('moves DEFAULT rows, orders with their items, into monthly partitions; status then reports none', async () => {
    const url = stack!.database.url;
    const env = { DATABASE_URL: url };
    const at = new Date(Date.UTC(new Date().getUTCFullYear() + 3, 4, 10, 12));
    const orderId = newId(at);
    const [product] = await query<{ id: string }>(url, 'select id::text from inventory.products limit 1');
    const [customer] = await query<{ id: string }>(url, 'select customer_id::text as id from orders.orders limit 1');
    await query(
      url,
      `insert into orders.orders (id, created_at, number, customer_id, status, total)
         values ('${orderId}', '${at.toISOString()}', 'ORD-FUTURE-1', '${customer!.id}', 'CONFIRMED', 20);
       insert into orders.order_items (order_id, created_at, product_id, quantity, unit_price, line_total)
         values ('${orderId}', '${at.toISOString()}', '${product!.id}', 2, 10, 20);
       insert into inventory.stock_movements (id, created_at, product_id, delta, reason)
         values ('${newId(at)}', '${at.toISOString()}', '${product!.id}', 0, 'ADJUSTMENT')`,
    );
    const before = JSON.parse((await stockgraph(['--json', 'db', 'status'], env)).stdout) as Status;
    const defaults = (s: Status) =>
      Object.fromEntries(s.subgraphs.flatMap((g) => g.partitionedTables.map((t) => [t.table, t.defaultRows])));
    expect(defaults(before)).toEqual({ 'orders.orders': 1, 'orders.order_items': 1, 'inventory.stock_movements': 1 });

    const moved = await stockgraph(['--json', 'partitions', 'move-default'], env);
    expect(moved.code, moved.stderr).toBe(0);
    const tables = (JSON.parse(moved.stdout).moved as { tables: { table: string; before: number; moved: number }[] }[])
      .flatMap((m) => m.tables)
      .map((t) => [t.table, t.before, t.moved]);
    expect(tables).toEqual(
      expect.arrayContaining([
        ['orders.orders', 1, 1],
        ['orders.order_items', 1, 1],
        ['inventory.stock_movements', 1, 1],
      ]),
    );
    const month = suffix(new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1)));
    const [placed] = await query<{ o: string; i: string; m: string }>(
      url,
      `select (select count(*) from orders.orders_${month})::text as o,
              (select count(*) from orders.order_items_${month} where order_id = '${orderId}')::text as i,
              (select count(*) from inventory.stock_movements_${month})::text as m`,
    );
    expect(placed).toEqual({ o: '1', i: '1', m: '1' });

    const after = await stockgraph(['--json', 'db', 'status'], env);
    expect(after.code, after.stderr).toBe(0);
    expect(defaults(JSON.parse(after.stdout) as Status)).toEqual({
      'orders.orders': 0,
      'orders.order_items': 0,
      'inventory.stock_movements': 0,
    });
    const checked = await stockgraph(['aggregates', 'check'], env);
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
  });

  it('runs the whole lifecycle on embedded PGlite', async () => {
    const pgliteDir = join(dir, 'pglite');
    const env = {
      DATABASE_URL: undefined,
      USERS_DATABASE_URL: undefined,
      INVENTORY_DATABASE_URL: undefined,
      ORDERS_DATABASE_URL: undefined,
      CUSTOMERS_DATABASE_URL: undefined,
      PGLITE_DIR: pgliteDir,
    };
    expect((await stockgraph(['db', 'migrate'], env)).code).toBe(0);
    // A month long past has no partition: its order lands in DEFAULT.
    const at = new Date(Date.UTC(2020, 2, 15));
    const orderId = newId(at);
    const pg = await PGlite.create(pgliteDir);
    await pg.exec(
      `insert into orders.orders (id, created_at, number, customer_id, status, total)
         values ('${orderId}', '${at.toISOString()}', 'ORD-OLD-1', '${newId()}', 'FULFILLED', 30);
       insert into orders.order_items (order_id, created_at, product_id, quantity, unit_price, line_total)
         values ('${orderId}', '${at.toISOString()}', '${newId()}', 3, 10, 30);`,
    );
    await pg.close();

    const moved = await stockgraph(['partitions', 'move-default'], env);
    expect(moved.code, moved.stderr).toBe(0);
    const archived = await stockgraph(['--json', 'partitions', 'archive', '--older-than', '1'], env);
    expect(archived.code, archived.stderr).toBe(0);
    expect(JSON.parse(archived.stdout).groups.flatMap((g: { archived: string[] }) => g.archived)).toEqual(
      expect.arrayContaining(['orders_2020_03', 'order_items_2020_03']),
    );
    const checkedArchive = await stockgraph(['aggregates', 'check'], env);
    expect(checkedArchive.code, checkedArchive.stdout + checkedArchive.stderr).toBe(0);
    // A stray row of an archived month is not split off into a second, live partition of that month.
    const stray = await PGlite.create(pgliteDir);
    const strayOrder = `('${newId(at)}', '${at.toISOString()}', 'ORD-OLD-2', '${newId()}', 'PENDING', 1)`;
    await stray.exec(
      `insert into orders.orders (id, created_at, number, customer_id, status, total) values ${strayOrder}`,
    );
    await stray.close();
    const refused = await stockgraph(['partitions', 'move-default'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/a month already archived \(orders_archive\.orders_2020_03\); nothing was moved/);
    const cleanup = await PGlite.create(pgliteDir);
    await cleanup.exec(`delete from orders.orders_default where number = 'ORD-OLD-2'`);
    await cleanup.close();

    const exportDir = join(dir, 'pglite-exports');
    const exported = await stockgraph(['partitions', 'export', '--to', exportDir], env);
    expect(exported.code, exported.stderr).toBe(0);
    expect(existsSync(join(exportDir, 'orders_archive.orders_2020_03.copy'))).toBe(true);
    const dropped = await stockgraph(['partitions', 'drop'], env);
    expect(dropped.code, dropped.stderr).toBe(0);
    const checkedDrop = await stockgraph(['aggregates', 'check'], env);
    expect(checkedDrop.code, checkedDrop.stdout + checkedDrop.stderr).toBe(0);
    const status = await stockgraph(['--json', 'db', 'status'], env);
    expect(status.code, status.stderr).toBe(0);
    const orders = (JSON.parse(status.stdout) as Status).subgraphs.find((s) => s.subgraph === 'orders')!;
    expect(orders.archive!.partitions).toEqual([]);
    expect(orders.partitionedTables.every((t) => t.defaultRows === 0)).toBe(true);
  });
});
