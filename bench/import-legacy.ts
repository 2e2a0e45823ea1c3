/**
 * `pnpm bench:import [--rows 2000000 | --file legacy.db] [--changed 0.01]`: writes a dirty legacy file of
 * about that many rows (or copies the one given), imports it into a fresh database of the machine's
 * PostgreSQL with the CLI, and prints the import rate and the verification summary. Then it changes
 * that share of the file's orders as the old application would (refunds, new orders with their lines
 * and log rows) and times `import sqlite --sync`, the final sync of a cutover. Targets: a full import
 * at ≥ 50,000 legacy rows/s, and with 1,000,000 orders and 1% changed a sync in ≤ 60 s.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { createTestDatabase } from '@stockgraph/testkit';

// `pnpm bench:import -- --rows N` passes the `--` on to the script.
const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    rows: { type: 'string', default: '2000000' },
    file: { type: 'string' },
    changed: { type: 'string', default: '0.01' },
    keep: { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows);
const changedShare = Number(values.changed);
if (!(changedShare > 0 && changedShare <= 1)) throw new Error('--changed: a share above 0, at most 1');
const load = () =>
  loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');
console.log(`load at start (1/5/15 min): ${load()}`);
const dir = mkdtempSync(join(tmpdir(), 'sg-bench-import-'));
const file = join(dir, 'legacy.db');
const cli = (args: string[], env: Record<string, string> = {}) => {
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'cli/src/main.ts', ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
  });
  if (result.status !== 0 && !args.includes('sqlite'))
    throw new Error(`stockgraph ${args.join(' ')} failed: ${result.stderr}`);
  return { ...result, ms: Date.now() - started };
};

let counts: { total: number };
if (values.file) {
  copyFileSync(values.file, file);
  const legacy = new DatabaseSync(file, { readOnly: true });
  const tables = ['users', 'products', 'customers', 'orders', 'order_items', 'inventory_log'];
  counts = {
    total: tables.reduce((n, t) => n + (legacy.prepare(`select count(*) as n from ${t}`).get() as { n: number }).n, 0),
  };
  legacy.close();
  console.log(`copied ${values.file}: ${counts.total} rows (${(statSync(file).size / 1e6).toFixed(0)} MB)`);
} else {
  // About 5.8 legacy rows per order (items, log rows, customers, products).
  const made = cli([
    '--json',
    'import',
    'make-legacy',
    file,
    '--orders',
    String(Math.round(rows / 5.78)),
    '--seed',
    '7',
    '--dirty',
  ]);
  counts = JSON.parse(made.stdout) as { total: number };
  console.log(
    `generated ${counts.total} rows (${(statSync(file).size / 1e6).toFixed(0)} MB) in ${(made.ms / 1000).toFixed(1)} s`,
  );
}
const database = await createTestDatabase('bench_import');
try {
  const env = { DATABASE_URL: database.url };
  cli(['db', 'migrate'], env);
  const report = join(dir, 'report');
  const run = cli(['--json', 'import', 'sqlite', file, '--report', report], env);
  if (!existsSync(join(report, 'verification.json')))
    throw new Error(`import failed (exit ${run.status}): ${run.stderr}`);
  const result = JSON.parse(readFileSync(join(report, 'verification.json'), 'utf8')) as {
    ok: boolean;
    seconds: number;
    rowsPerSecond: number;
    phases: Record<string, number>;
    written: Record<string, number>;
    legacyRows: Record<string, number>;
    quarantine: { notImported: number; fieldsKeptInNotes: number };
    verification: { checks: { name: string; legacy: number; stockgraph: number; ok: boolean }[] };
  };
  console.log(
    `import: exit ${run.status}, ${counts.total} legacy rows in ${result.seconds.toFixed(1)} s = ${result.rowsPerSecond} rows/s (whole command ${(run.ms / 1000).toFixed(1)} s)`,
  );
  // Orders and the ledger are written at once: their phases overlap.
  const phaseRows: Record<string, number> = {
    'users, products, customers':
      (result.legacyRows.users ?? 0) + (result.legacyRows.products ?? 0) + (result.legacyRows.customers ?? 0),
    orders: (result.legacyRows.orders ?? 0) + (result.legacyRows.order_items ?? 0),
    ledger: result.legacyRows.inventory_log ?? 0,
  };
  for (const [name, seconds] of Object.entries(result.phases)) {
    const n = phaseRows[name];
    console.log(`  ${name}: ${seconds.toFixed(1)} s${n ? ` (${n} rows, ${Math.round(n / seconds)} rows/s)` : ''}`);
  }
  const withVerification = result.seconds + (result.phases.verification ?? 0);
  console.log(
    `import + verification: ${withVerification.toFixed(1)} s = ${Math.round(counts.total / withVerification)} rows/s`,
  );
  console.log(`load after the import (1/5/15 min): ${load()}`);
  console.log(`written: ${JSON.stringify(result.written)}`);
  console.log(
    `quarantined ${result.quarantine.notImported} rows, ${result.quarantine.fieldsKeptInNotes} fields kept in notes`,
  );
  console.log(`verification ${result.ok ? 'PASSED' : 'FAILED'}:`);
  for (const c of result.verification.checks)
    console.log(`  ${c.ok ? 'ok ' : 'BAD'} ${c.name}: legacy ${c.legacy}, stockgraph ${c.stockgraph}`);
  const again = cli(['--json', 'import', 'sqlite', file, '--report', join(dir, 'report-again')], env);
  console.log(`second run on the finished import: exit ${again.status} in ${(again.ms / 1000).toFixed(1)} s`);

  // The old application goes on: refunds on a share of the orders, and new orders (a tenth of that share).
  const legacy = new DatabaseSync(file);
  const { orders } = legacy.prepare('select count(*) as orders from orders').get() as { orders: number };
  const every = Math.max(1, Math.round(1 / changedShare));
  legacy.exec('begin');
  const refunded = legacy
    .prepare(`update orders set status = 'refunded', updated_at = '2026-12-01 10:00:00' where id % ${every} = 7`)
    .run().changes;
  const order = legacy.prepare(
    "insert into orders (customer_id, status, total, created_by, created_at) values (?, 'paid', 19.8, null, '2026-12-01 11:00:00')",
  );
  const item = legacy.prepare(
    'insert into order_items (order_id, product_id, quantity, unit_price) values (?, ?, 2, 9.9)',
  );
  const log = legacy.prepare(
    "insert into inventory_log (product_id, change, reason, ref_order_id, created_at) values (?, -2, 'sale', ?, '2026-12-01 11:00:00')",
  );
  const newOrders = Math.max(1, Math.round((orders * changedShare) / 10));
  for (let i = 0; i < newOrders; i++) {
    const { lastInsertRowid } = order.run(1 + (i % 100));
    item.run(lastInsertRowid, 1 + (i % 50));
    log.run(1 + (i % 50), lastInsertRowid);
  }
  legacy.exec('commit');
  legacy.close();
  console.log(`changed in the legacy file: ${refunded} orders refunded, ${newOrders} new orders (of ${orders})`);
  const sync = cli(['--json', 'import', 'sqlite', file, '--sync', '--report', join(dir, 'report-sync')], env);
  if (sync.status !== 0) throw new Error(`sync failed (exit ${sync.status}): ${sync.stderr}`);
  const synced = JSON.parse(sync.stdout) as {
    seconds: number;
    phases: Record<string, number>;
    written: Record<string, number>;
  };
  console.log(
    `sync: exit ${sync.status}, ${synced.seconds.toFixed(1)} s to compare and write, ${(synced.phases.verification ?? 0).toFixed(1)} s to verify (whole command ${(sync.ms / 1000).toFixed(1)} s)`,
  );
  for (const [name, seconds] of Object.entries(synced.phases)) console.log(`  ${name}: ${seconds.toFixed(1)} s`);
  console.log(`  written: ${JSON.stringify(synced.written)}`);
  console.log(`load after the sync (1/5/15 min): ${load()}`);
} finally {
  await database.drop();
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
