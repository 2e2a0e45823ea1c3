/**
 * placeOrder through the gateway, every service its own process on the machine's PostgreSQL and
 * Redis, in three load shapes at each client level:
 *
 *   hot     every order is one line for the same product: the worst case for its row lock;
 *   spread  1–5 lines (1–3 units each) over a catalogue of products;
 *   mixed   the spread shape while other clients read the catalogue and order history (their
 *           latency is reported too).
 *
 * `--baseline monolith` runs the reference monolith (bench/monolith/server.ts: one process, one
 * database, placeOrder as one local transaction, the same ES256 token check) on SQLite and on
 * PostgreSQL interleaved with Stockgraph, each shape and level in turn, so every row of the table was
 * taken under the same conditions.
 *
 * For each run: decided orders/s (answers CONFIRMED or REJECTED), p50/p99, and the CPU milliseconds
 * per decided order of every process (each service, PostgreSQL's backends, Redis), with SQL statements
 * per order from each subgraph's /metrics. After each Stockgraph run: every order final, no oversell
 * (each product's reserved units are exactly the confirmed orders' units, never more than its stock),
 * the ledger agreeing with the stock columns (`stock check`) and the aggregates with the rows
 * (`aggregates check`). Latency is from the request to the answer.
 *
 *   pnpm bench:orders [--seconds 10] [--stock 1000000] [--clients 10,50] [--shapes hot,spread,mixed]
 *                     [--catalogue 40] [--readers 4] [--baseline monolith] [--compare DIR] [--profile DIR]
 *
 * `--compare DIR` runs a second Stockgraph from another checkout (a `git worktree` of an earlier commit,
 * installed), interleaved with this one run by run: on a shared two-core machine only figures taken
 * side by side say what a change did.
 *
 * `--profile DIR` runs Stockgraph's gateway, orders and inventory under `node --cpu-prof` (one profile
 * per process in DIR/<service>, summarised when the stack stops) and, where the server has
 * pg_stat_statements, prints each statement's calls, execution and planning time per decided order.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path, { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { createTestDatabase, graphql, ROOT, run, type TestDatabase } from '@stockgraph/testkit';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import postgres from 'postgres';
import { dropRedisKeys, demo, eventually, finalStatuses, startSagaStack } from '@stockgraph/testkit/saga';
import { cpuMs } from './proc-stats.js';
import { monotonicMicros, summariseProfiles, type Window } from './profile-summary.js';

const SHAPES = ['hot', 'spread', 'mixed'] as const;
type Shape = (typeof SHAPES)[number];

const USAGE =
  'usage: pnpm bench:orders [--seconds N] [--stock N] [--clients 10,50] [--shapes hot,spread,mixed] [--catalogue N] [--readers N] [--baseline monolith] [--compare DIR] [--profile DIR]\n';
let values;
try {
  ({ values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      stock: { type: 'string', default: '1000000' },
      clients: { type: 'string', default: '10,50' },
      shapes: { type: 'string', default: SHAPES.join(',') },
      catalogue: { type: 'string', default: '40' },
      readers: { type: 'string', default: '4' },
      baseline: { type: 'string' },
      profile: { type: 'string' },
      compare: { type: 'string' },
    },
    strict: true,
  }));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
const seconds = Number(values.seconds);
const stockUnits = Number(values.stock);
const catalogueSize = Number(values.catalogue);
const readers = Number(values.readers);
const levels = values.clients.split(',').map(Number);
const shapes = values.shapes.split(',') as Shape[];
const profileDir = values.profile ? path.resolve(values.profile) : undefined;
const PROFILED = ['gateway', 'orders', 'inventory'];
// Profiled processes stop by themselves (the gateway's blocking stream reads end within 5 s), or V8 writes nothing.
if (profileDir) process.env.STOP_TIMEOUT_MS ??= '30000';
const positive = (n: number) => Number.isInteger(n) && n >= 1;
if (
  ![seconds, stockUnits, catalogueSize, readers, ...levels].every(positive) ||
  shapes.some((s) => !SHAPES.includes(s)) ||
  (values.baseline !== undefined && values.baseline !== 'monolith')
) {
  process.stderr.write(USAGE);
  process.exit(2);
}

interface Checked {
  orders: number;
  confirmed: number;
  /** What broke, or an empty list. */
  broken: string[];
}

/** One system under load: Stockgraph or a monolith. */
interface System {
  name: string;
  url: string;
  headers: Record<string, string>;
  customerId: string;
  /** The processes whose CPU time is counted, by label. */
  processes: Record<string, () => number[]>;
  /** SQL statements sent so far, per service (Stockgraph's /metrics). */
  statements?: () => Promise<Record<string, number>>;
  /** With --profile: clears the server's statement statistics, and reads them per decided order. */
  statementStats?: { reset(): Promise<void>; report(decided: number): Promise<Record<string, string | number>[]> };
  catalogue(count: number, units: number): Promise<string[]>;
  readQueries: string[];
  verify(productIds: string[]): Promise<Checked>;
  stop(): Promise<void>;
}

const pidsOf = (name: string) => () =>
  execFileSync('ps', ['-C', name, '-o', 'pid='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);

/** Sums the CPU time of processes that may come and go; one that ended since counts as zero. */
function cpuOf(pids: number[]): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const pid of pids) {
    try {
      cpu.set(pid, cpuMs(pid));
    } catch {
      // Gone between listing and reading.
    }
  }
  return cpu;
}

/** What differs between this checkout's Stockgraph and another's (`--compare`): how it starts and its CLI. */
interface Kit {
  startSagaStack: typeof startSagaStack;
  run: typeof run;
}
const ownKit: Kit = { startSagaStack, run };

/**
 * Another checkout's services, started by its own test kit from its own root (its stack and process
 * modules: the rest of its kit would load a second vitest), checked with its own CLI.
 */
async function kitOf(dir: string): Promise<{ kit: Kit; name: string }> {
  const root = path.resolve(dir);
  const { startStack } = (await import(join(root, 'packages/testkit/src/stack.ts'))) as {
    startStack: Parameters<typeof startSagaStack>[2];
  };
  const other = (await import(join(root, 'packages/testkit/src/process.ts'))) as { run: typeof run };
  const commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  return {
    kit: { startSagaStack: (env, options) => startSagaStack(env, options, startStack), run: other.run },
    name: `Stockgraph ${commit}`,
  };
}

async function startStockgraph(kit: Kit = ownKit, name = 'Stockgraph'): Promise<System> {
  const { stack, prefix } = await kit.startSagaStack(
    { DATABASE_POOL_MAX: '10' },
    // The rate limit is checked on every order as in production, but with a budget this load never
    // meets: the bench measures how fast orders are taken, not how fast one user is refused.
    {
      gatewayEnv: { SESSION_CACHE_MS: '5000', RATE_LIMIT_POINTS: '1000000000' },
      nodeArgs: (service) =>
        profileDir && PROFILED.includes(service) ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, service)}`] : [],
    },
  );
  const sql = postgres(stack.database.url, { max: 1 });
  const manager = await stack.as('MANAGER');
  const own = (process: { child: ChildProcess }) => () => [process.child.pid!];

  /** Products created through the API like a manager would, each with `units` in stock, known to orders. */
  async function catalogue(count: number, units: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 10) {
      const chunk = await Promise.all(
        Array.from({ length: Math.min(10, count - i) }, async () => {
          const sku = `B-${randomUUID().slice(0, 8)}`;
          const created = await graphql(
            stack.gateway.url,
            'mutation ($i: CreateProductInput!) { createProduct(input: $i) { id } }',
            { i: { sku, name: `Bench ${sku}`, unitPrice: '9.99' } },
            manager,
          );
          const id = created.data?.createProduct?.id as string | undefined;
          if (!id) throw new Error(`createProduct failed: ${JSON.stringify(created.errors)}`);
          const received = await graphql(
            stack.gateway.url,
            'mutation ($id: ID!, $q: Int!) { receiveStock(productId: $id, quantity: $q) { onHand } }',
            { id, q: units },
            manager,
          );
          if (received.data?.receiveStock?.onHand !== units) throw new Error('receiveStock failed');
          return id;
        }),
      );
      ids.push(...chunk);
    }
    // Orders learns prices from inventory's events.
    await eventually(
      async () =>
        Number(
          (await sql`select count(*)::int as n from orders.product_prices where product_id = any(${ids})`)[0]!.n,
        ) === ids.length,
      60_000,
      'orders knows the prices',
    );
    return ids;
  }

  async function verify(productIds: string[]): Promise<Checked> {
    const orderIds = async () =>
      (await sql`select distinct order_id as id from orders.order_items where product_id = any(${productIds})`).map(
        (r) => r.id as string,
      );
    // autocannon stops at the deadline with requests still in flight on the server: let them land.
    let ids = await orderIds();
    for (let settled = false; !settled;) {
      await new Promise((r) => setTimeout(r, 1000));
      const again = await orderIds();
      settled = again.length === ids.length;
      ids = again;
    }
    const statuses = await finalStatuses(stack, ids, 120_000);
    const confirmed = [...statuses.values()].filter((s) => s === 'CONFIRMED').length;
    const broken: string[] = [];
    // Per product: reserved units are exactly the confirmed orders' units, and never above on hand.
    const oversold = await sql`
      with sold as (
        select i.product_id, sum(i.quantity)::int as units
        from orders.order_items i join orders.orders o on o.id = i.order_id and o.created_at = i.created_at
        where o.status = 'CONFIRMED' and i.product_id = any(${productIds}) group by i.product_id)
      select p.id, p.on_hand, p.reserved, coalesce(s.units, 0) as confirmed_units
      from inventory.products p left join sold s on s.product_id = p.id
      where p.id = any(${productIds}) and (p.reserved <> coalesce(s.units, 0) or p.reserved > p.on_hand)`;
    if (oversold.length > 0) broken.push(`oversold: ${JSON.stringify(oversold.slice(0, 3))}`);
    const env = { DATABASE_URL: stack.database.url, LOG_LEVEL: 'warn' };
    const stock = await kit.run('cli/src/main.ts', env, ['stock', 'check']);
    if (stock.code !== 0) broken.push(`stock check: ${stock.stdout}${stock.stderr}`.slice(0, 500));
    const aggregates = await kit.run('cli/src/main.ts', env, ['aggregates', 'check']);
    if (aggregates.code !== 0) broken.push(`aggregates check: ${aggregates.stdout}${aggregates.stderr}`.slice(0, 500));
    // Every cross-service invariant, with the saga settled (every order final above).
    const invariants = await kit.run('cli/src/main.ts', env, ['check', '--grace', '0']);
    if (invariants.code !== 0) broken.push(`check: ${invariants.stdout}${invariants.stderr}`.slice(0, 800));
    return { orders: ids.length, confirmed, broken };
  }

  const metricsUrl = (url: string) => new URL('/metrics', url).toString();
  return {
    name,
    url: stack.gateway.url,
    headers: await stack.as('STAFF'),
    customerId: demo.customers[1]!.id,
    processes: {
      gateway: own(stack.gateway),
      users: own(stack.subgraphs.users),
      inventory: own(stack.subgraphs.inventory),
      orders: own(stack.subgraphs.orders),
      customers: own(stack.subgraphs.customers),
      postgres: pidsOf('postgres'),
      redis: pidsOf('redis-server'),
    },
    statements: async () => {
      const counts: Record<string, number> = {};
      for (const name of ['inventory', 'orders'] as const) {
        const text = await (await fetch(metricsUrl(stack.subgraphs[name].url))).text();
        counts[name] = text
          .split('\n')
          .filter((l) => l.startsWith('stockgraph_sql_statements_total'))
          .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
      }
      return counts;
    },
    statementStats: profileDir ? await statementStats(sql, stack.database.name) : undefined,
    catalogue,
    readQueries: [
      '{ products(first: 20) { edges { node { id sku name available } } } }',
      `{ orders(first: 20, filter: { customerId: "${demo.customers[1]!.id}" }) { edges { node { id number status total } } } }`,
    ],
    verify,
    stop: async () => {
      await sql.end();
      await stack.stop();
      await dropRedisKeys(prefix);
    },
  };
}

/**
 * pg_stat_statements for this run's database, or undefined where the server does not load it (it must
 * be in shared_preload_libraries; `track_planning = on` adds planning time).
 */
async function statementStats(sql: postgres.Sql, database: string): Promise<System['statementStats']> {
  try {
    await sql`create extension if not exists pg_stat_statements`;
    await sql`select 1 from pg_stat_statements limit 1`;
  } catch (error) {
    process.stderr.write(`no statement statistics: ${(error as Error).message}\n`);
    return undefined;
  }
  return {
    reset: async () => void (await sql`select pg_stat_statements_reset()`),
    report: async (decided) =>
      (
        await sql`
          select s.query, s.calls, s.total_exec_time as exec, s.total_plan_time as plan,
            s.shared_blks_hit + s.shared_blks_read as blocks, s.wal_bytes
          from pg_stat_statements s join pg_database d on d.oid = s.dbid
          where d.datname = ${database} and s.calls > 0
          order by s.total_exec_time + s.total_plan_time desc limit 15`
      ).map((r) => ({
        statement: String(r.query).replace(/\s+/g, ' ').slice(0, 90),
        'calls/order': Number((Number(r.calls) / decided).toFixed(2)),
        'exec ms/order': Number((Number(r.exec) / decided).toFixed(3)),
        'plan ms/order': Number((Number(r.plan) / decided).toFixed(3)),
        'ms/call': Number((Number(r.exec) / Number(r.calls)).toFixed(3)),
        'blocks/order': Math.round(Number(r.blocks) / decided),
        'WAL bytes/order': Math.round(Number(r.wal_bytes) / decided),
      })),
  };
}

/** The reference monolith on `store`, verifying tokens signed with a key of this run. */
async function startMonolith(store: 'sqlite' | 'postgres'): Promise<System> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const userId = randomUUID();
  const token = await new SignJWT({ role: 'STAFF' })
    .setProtectedHeader({ alg: 'ES256' })
    .setSubject(userId)
    .setExpirationTime('2h')
    .sign(privateKey);
  const database: TestDatabase | null = store === 'postgres' ? await createTestDatabase('monolith') : null;
  const file = store === 'sqlite' ? join(mkdtempSync(join(tmpdir(), 'bench-monolith-')), 'orders.db') : null;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/monolith/server.ts',
      '--store',
      store,
      '--port',
      '0',
      ...(database ? ['--database-url', database.url] : []),
      ...(file ? ['--file', file] : []),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, MONOLITH_PUBLIC_JWK: JSON.stringify(await exportJWK(publicKey)) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the ${store} monolith exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^ready (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
    });
  });
  const url = `http://127.0.0.1:${port}/graphql`;
  const headers = { authorization: `Bearer ${token}` };
  const sql = database ? postgres(database.url, { max: 1 }) : null;
  return {
    name: `monolith (${store === 'sqlite' ? 'SQLite' : 'PostgreSQL'})`,
    url,
    headers,
    customerId: randomUUID(),
    processes: {
      monolith: () => [child.pid!],
      ...(store === 'postgres' ? { postgres: pidsOf('postgres') } : {}),
    },
    catalogue: async (count, units) => {
      const seeded = await graphql(
        url,
        'mutation ($n: Int!, $s: Int!) { seedProducts(count: $n, stock: $s, unitPrice: "9.99") }',
        { n: count, s: units },
        headers,
      );
      const ids = seeded.data?.seedProducts as string[] | undefined;
      if (!ids) throw new Error(`seedProducts failed: ${JSON.stringify(seeded.errors)}`);
      return ids;
    },
    readQueries: [
      '{ products(first: 20) { edges { node { id sku name available } } } }',
      '{ orders(first: 20) { edges { node { id number status total } } } }',
    ],
    // The monolith decides in the request's transaction: every answered order is final already.
    verify: async (productIds) => {
      const counted = await monolithCounts(productIds, sql, file!);
      return { ...counted, broken: counted.oversold > 0 ? [`${counted.oversold} products oversold`] : [] };
    },
    stop: async () => {
      await sql?.end();
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      await database?.drop();
      if (file) rmSync(dirname(file), { recursive: true, force: true });
    },
  };
}

/**
 * The monolith's orders for these products and the products whose reserved units are not exactly their
 * confirmed orders' units (or exceed their stock), read from its PostgreSQL schema or its SQLite file.
 */
async function monolithCounts(productIds: string[], sql: postgres.Sql | null, file: string) {
  const ids = JSON.stringify(productIds);
  const query = (schema: string, inList: string) => `
    with lines as (select l.order_id, l.product_id, l.quantity, o.status from ${schema}order_lines l
      join ${schema}orders o on o.id = l.order_id where l.product_id in ${inList}),
    sold as (select product_id, sum(quantity) as units from lines where status = 'CONFIRMED' group by product_id)
    select (select count(distinct order_id) from lines) as orders,
      (select count(distinct order_id) from lines where status = 'CONFIRMED') as confirmed,
      (select count(*) from ${schema}products p left join sold s on s.product_id = p.id
       where p.id in ${inList} and (p.reserved <> coalesce(s.units, 0) or p.reserved > p.on_hand)) as oversold`;
  if (sql) {
    const [row] = await sql.unsafe(query('monolith.', '(select unnest($1::uuid[]))'), [productIds]);
    return { orders: Number(row!.orders), confirmed: Number(row!.confirmed), oversold: Number(row!.oversold) };
  }
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const row = db.prepare(query('', '(select value from json_each(?))')).get(ids, ids)!;
    return { orders: Number(row.orders), confirmed: Number(row.confirmed), oversold: Number(row.oversold) };
  } finally {
    db.close();
  }
}

/** 1–5 distinct products of the catalogue, 1–3 units each. */
function spreadLines(catalogue: string[]) {
  const n = 1 + Math.floor(Math.random() * 5);
  const picked = new Set<string>();
  while (picked.size < n) picked.add(catalogue[Math.floor(Math.random() * catalogue.length)]!);
  return [...picked].map((productId) => ({ productId, quantity: 1 + Math.floor(Math.random() * 3) }));
}

/** Readers of the catalogue and of order history, running for `seconds`. */
function startReaders(system: System) {
  return Promise.all(
    system.readQueries.map((query) =>
      autocannon({
        url: system.url,
        method: 'POST',
        connections: Math.max(1, Math.floor(readers / system.readQueries.length)),
        duration: seconds,
        headers: { 'content-type': 'application/json', ...system.headers },
        body: JSON.stringify({ query }),
      }),
    ),
  );
}

const systems: System[] = [];
/** When the load ran, for the profiles: what the services did before and after is left out of them. */
const measured: Window[] = [];
try {
  if (values.baseline === 'monolith') systems.push(await startMonolith('sqlite'), await startMonolith('postgres'));
  if (values.compare) {
    const other = await kitOf(values.compare);
    systems.push(await startStockgraph(other.kit, other.name));
  }
  systems.push(await startStockgraph());
  const rows: Record<string, string | number>[] = [];
  const cpuRows: Record<string, string | number>[] = [];
  const reads: Record<string, string | number>[] = [];
  let failed = false;
  for (const shape of shapes) {
    for (const clients of levels) {
      for (const system of systems) {
        // Fresh products per run, so each run's checks see only its own orders.
        const catalogue = await system.catalogue(shape === 'hot' ? 1 : catalogueSize, stockUnits);
        const items = () => (shape === 'hot' ? [{ productId: catalogue[0]!, quantity: 1 }] : spreadLines(catalogue));
        const body = () =>
          JSON.stringify({
            query: 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }',
            variables: {
              input: {
                customerId: system.customerId,
                items: items(),
                // A fresh idempotency key per request: every request is a new order.
                idempotencyKey: randomUUID(),
              },
            },
          });
        let decided = 0;
        const pids = Object.fromEntries(Object.entries(system.processes).map(([label, list]) => [label, list()]));
        const cpuBefore = Object.fromEntries(Object.entries(pids).map(([label, list]) => [label, cpuOf(list)]));
        const statementsBefore = await system.statements?.();
        await system.statementStats?.reset();
        const readRun = shape === 'mixed' ? startReaders(system) : null;
        const from = monotonicMicros();
        const result = await autocannon({
          url: system.url,
          method: 'POST',
          connections: clients,
          duration: seconds,
          headers: { 'content-type': 'application/json', ...system.headers },
          requests: [
            {
              setupRequest: (request) => ({ ...request, body: body() }),
              onResponse: (_status, responseBody) => {
                if (/"status":"(CONFIRMED|REJECTED)"/.test(responseBody)) decided++;
              },
            },
          ],
        });
        const readResults = await readRun;
        measured.push([from, monotonicMicros()]);
        const statementsAfter = await system.statements?.();
        const cpuAfter = Object.fromEntries(Object.entries(pids).map(([label, list]) => [label, cpuOf(list)]));
        const load = loadavg()[0]!.toFixed(1);
        const statementRows = await system.statementStats?.report(Math.max(decided, 1));
        const checked = await system.verify(catalogue);
        const cpu: Record<string, string | number> = { shape, clients, system: system.name };
        let totalCpu = 0;
        for (const [label, after] of Object.entries(cpuAfter)) {
          let used = 0;
          for (const [pid, ms] of after) used += ms - (cpuBefore[label]!.get(pid) ?? ms);
          totalCpu += used;
          cpu[label] = decided > 0 ? Number((used / decided).toFixed(2)) : '–';
        }
        cpu['all'] = decided > 0 ? Number((totalCpu / decided).toFixed(2)) : '–';
        if (statementsBefore && statementsAfter)
          for (const [service, n] of Object.entries(statementsAfter))
            cpu[`${service} SQL/order`] =
              decided > 0 ? Number(((n - statementsBefore[service]!) / decided).toFixed(1)) : '–';
        cpuRows.push(cpu);
        rows.push({
          shape,
          clients,
          system: system.name,
          'decided/s': Math.round(decided / seconds),
          'p50 ms': result.latency.p50,
          'p99 ms': result.latency.p99,
          orders: checked.orders,
          confirmed: checked.confirmed,
          errors: result.errors + result.non2xx,
          checks: checked.broken.length === 0 ? 'held' : checked.broken.join('; '),
          load,
        });
        if (checked.broken.length > 0) failed = true;
        if (statementRows) {
          process.stdout.write(`\nstatements per decided order, ${system.name}, ${shape}, ${clients} clients\n`);
          console.table(statementRows);
        }
        if (readResults) {
          system.readQueries.forEach((query, i) =>
            reads.push({
              system: system.name,
              read: query.includes('products') ? 'catalogue' : 'order history',
              'with clients placing orders': clients,
              'reads/s': Math.round(readResults[i]!.requests.average),
              'p50 ms': readResults[i]!.latency.p50,
              'p99 ms': readResults[i]!.latency.p99,
              errors: readResults[i]!.errors + readResults[i]!.non2xx,
            }),
          );
        }
      }
    }
  }
  process.stdout.write(
    `\nplaceOrder, ${seconds}s per run, ${stockUnits} units per product, spread over ${catalogueSize} products ` +
      `(load = 1-minute load average at the end of the run)\n`,
  );
  console.table(rows);
  process.stdout.write('\nCPU ms per decided order, by process (PostgreSQL: all its backends)\n');
  console.table(cpuRows);
  if (reads.length > 0) {
    process.stdout.write(`\nreads during the mixed run (${readers} reading clients)\n`);
    console.table(reads);
  }
  if (failed) process.exitCode = 1;
} finally {
  for (const system of systems) await system.stop();
  // V8 writes a profile when its process exits: the stack is stopped above.
  if (profileDir)
    for (const service of PROFILED)
      process.stdout.write(`\n${summariseProfiles(join(profileDir, service), service, 20, measured)}\n`);
}
