/**
 * `pnpm bench:import [--rows 2000000]`: writes a dirty legacy file of about that many rows, imports
 * it into a fresh database of the machine's PostgreSQL with the CLI, and prints the import rate and
 * the verification summary. The target is ≥ 50,000 legacy rows/s for 2 million rows.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createTestDatabase } from '@stockgraph/testkit';

// `pnpm bench:import -- --rows N` passes the `--` on to the script.
const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: { rows: { type: 'string', default: '2000000' }, keep: { type: 'boolean', default: false } },
});
const rows = Number(values.rows);
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
const counts = JSON.parse(made.stdout) as { total: number };
console.log(
  `generated ${counts.total} rows (${(statSync(file).size / 1e6).toFixed(0)} MB) in ${(made.ms / 1000).toFixed(1)} s`,
);
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
} finally {
  await database.drop();
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
