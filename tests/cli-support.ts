import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT, run } from '@stockgraph/testkit';
import postgres from 'postgres';

/** The operator CLI as an operator runs it: its own process, its exit code, its two streams. */
export function stockgraph(args: string[], env: Record<string, string | undefined> = {}) {
  // A variable given as undefined is removed from the inherited environment.
  const clean = Object.fromEntries(
    Object.entries({ ...process.env, LOG_LEVEL: 'warn', ...env }).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  );
  return run('cli/src/main.ts', clean, args);
}

export function spawnStockgraph(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'cli/src/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: 'ignore',
  });
}

/** Every table the legacy import writes. */
export const IMPORT_TABLES = [
  'users.users',
  'inventory.products',
  'inventory.price_history',
  'inventory.stock_movements',
  'orders.orders',
  'orders.order_items',
  'orders.product_prices',
  'orders.known_customers',
  'customers.customers',
];

/** A digest of a table's whole content, to compare two databases row for row. */
export async function tableDigests(url: string, tables: string[]): Promise<Record<string, string>> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const result: Record<string, string> = {};
    for (const table of tables) {
      const [row] = await sql.unsafe<{ d: string | null; n: string }[]>(
        `select md5(string_agg(t::text, '|' order by t::text)) as d, count(*)::text as n from ${table} t`,
      );
      result[table] = `${row!.n}:${row!.d}`;
    }
    return result;
  } finally {
    await sql.end();
  }
}

export async function query<T>(url: string, text: string): Promise<T[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await sql.unsafe<T[]>(text);
  } finally {
    await sql.end();
  }
}

/**
 * The invariant checker as Prometheus scrapes it (`stockgraph check --watch`), on `databaseUrl`: resolves
 * once it serves /metrics and has checked once; `stop` sends SIGTERM and resolves with the exit code.
 */
export async function startChecker(databaseUrl: string, flags: string[] = []) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'cli/src/main.ts',
      'check',
      '--watch',
      '5',
      '--metrics-port',
      '0',
      '--metrics-host',
      '127.0.0.1',
      ...flags,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const stop = async () => {
    child.kill('SIGTERM');
    return exited;
  };
  const deadline = Date.now() + 60_000;
  while (!(/"metricsUrl":"[^"]+"/.test(out) && out.includes('invariants checked'))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`the invariant checker did not serve a first check: ${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url: /"metricsUrl":"([^"]+)"/.exec(out)![1]!, stop };
}
