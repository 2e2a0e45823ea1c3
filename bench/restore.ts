/**
 * Restore inside five minutes (the report's recovery bar, issue 28): a private PostgreSQL cluster of its
 * own (initdb on a free port, fsync on) filled with bench:scale's order history, then both ways back:
 *
 * 1. logical: `stockgraph backup create`, then `stockgraph backup restore` into an empty database;
 * 2. physical: a pgBackRest full backup with the committed infra/pgbackrest configuration, the data
 *    directory emptied (the disaster), `pgbackrest restore --process-max=N`, then PostgreSQL started
 *    and replaying until it accepts writes (pg_is_in_recovery() = false).
 *
 *   pnpm bench:restore [--orders 10000000] [--process-max 2] [--keep]
 *
 * Run it through ../shared/bin/quiet-run. 10 million orders need about 25 GB free in $TMPDIR and
 * 25 minutes. WAL is archived only from the backup on (archive_command is /bin/true during the load),
 * as on a server whose archiving starts with its first backup. --keep leaves the cluster's directory.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { as, freePort, pgbackrestConfig, privateCluster, privateDirectory, run } from '@stockgraph/testkit';
import { loadHistory, rebuildAggregates } from './scale/load.js';

const usage = 'usage: pnpm bench:restore [--orders N] [--process-max N] [--keep]\n';
let values;
try {
  ({ values } = parseArgs({
    options: {
      orders: { type: 'string', default: '10000000' },
      'process-max': { type: 'string', default: '2' },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
const orders = Number(values.orders);
const processMax = Number(values['process-max']);
if (!Number.isInteger(orders) || orders < 1000 || !Number.isInteger(processMax) || processMax < 1) {
  process.stderr.write(`--orders must be an integer ≥ 1000 and --process-max ≥ 1\n${usage}`);
  process.exit(2);
}

const say = (line: string) => process.stderr.write(`${line}\n`);
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
const seconds = (t: number) => (performance.now() - t) / 1000;
const minutes = (s: number) => `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;

const dir = privateDirectory('sg-restore-');
const port = await freePort();
const cluster = privateCluster(dir, port);
const { data } = cluster;
const config = join(dir, 'pgbackrest.conf');
const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
const psql = (database: string, sql: string) => cluster.psql(sql, database);
const backrest = (...args: string[]) => as('pgbackrest', [`--config=${config}`, '--stanza=stockgraph', ...args]);
const startServer = () => cluster.start(3600);

const figures: [string, string][] = [];
const loadAtStart = uptime();
say(`cluster in ${dir}, port ${port}; ${loadAtStart}`);
try {
  cluster.init('-E', 'UTF8');
  // A production-like server for a 10 GB database; archiving is on but discards until the first backup.
  cluster.configure(
    [
      'shared_buffers = 2GB',
      'maintenance_work_mem = 1GB',
      'max_wal_size = 16GB',
      'checkpoint_timeout = 15min',
      'archive_mode = on',
      "archive_command = '/bin/true'",
      // Where a restore's time goes: every statement over a second, with its duration, in server.log.
      'log_min_duration_statement = 1000',
    ].join('\n'),
  );
  writeFileSync(
    config,
    pgbackrestConfig({
      'repo1-path': join(dir, 'repo'),
      'pg1-path': data,
      'pg1-port': String(port),
      'pg1-socket-path': dir,
      'log-level-file': 'off',
    }).replace('[global]', `[global]\nlock-path=${join(dir, 'lock')}`),
  );
  startServer();
  psql('postgres', 'create database stockgraph');

  let t = performance.now();
  const loaded = await loadHistory(url('stockgraph'), {
    orders,
    customers: 400,
    products: 2000,
    months: 24,
    seed: 15,
  });
  const aggregates = await rebuildAggregates(url('stockgraph'));
  figures.push([
    `load ${orders.toLocaleString('en')} orders`,
    `${minutes(seconds(t))} (${loaded.sizes.reduce((n, s) => n + s.rows, 0).toLocaleString('en')} rows, ${loaded.sizes.reduce((n, s) => n + s.mb, 0).toLocaleString('en')} MB; aggregates ${aggregates.seconds.toFixed(0)} s)`,
  ]);
  say(`loaded: ${figures.at(-1)![1]}`);

  // 1. Logical, as docs/operators/backup.md's `stockgraph backup` runs it.
  const cli = (database: string, ...args: string[]) =>
    run('cli/src/main.ts', { DATABASE_URL: url(database), BACKUP_DIR: join(dir, 'logical'), LOG_LEVEL: 'warn' }, [
      'backup',
      ...args,
    ]);
  t = performance.now();
  const created = await cli('stockgraph', 'create');
  if (created.code !== 0) throw new Error(`backup create exited ${created.code}: ${created.stderr}`);
  const id = readdirSync(join(dir, 'logical'))[0]!;
  figures.push(['stockgraph backup create', `${minutes(seconds(t))} (${du(join(dir, 'logical'))})`]);
  say(`logical backup ${id}: ${figures.at(-1)![1]}`);
  psql('postgres', 'create database restored');
  t = performance.now();
  const restored = await cli('restored', 'restore', id);
  if (restored.code !== 0) throw new Error(`backup restore exited ${restored.code}: ${restored.stderr}`);
  figures.push(['stockgraph backup restore (empty database)', minutes(seconds(t))]);
  say(`logical restore: ${figures.at(-1)![1]}`);
  const count = (database: string) => psql(database, 'select count(*) from orders.orders');
  if (count('restored') !== count('stockgraph')) throw new Error('the logical restore lost orders');
  psql('postgres', 'drop database restored');

  // 2. Physical, with pgBackRest.
  psql(
    'postgres',
    `alter system set archive_command = 'pgbackrest --config=${config} --stanza=stockgraph archive-push %p'`,
  );
  psql('postgres', 'select pg_reload_conf()');
  backrest('stanza-create');
  t = performance.now();
  backrest('--type=full', `--process-max=${processMax}`, 'backup');
  figures.push([
    `pgbackrest backup --type=full --process-max=${processMax}`,
    `${minutes(seconds(t))} (${du(join(dir, 'repo'))})`,
  ]);
  say(`pgBackRest backup: ${figures.at(-1)![1]}`);
  const before = count('stockgraph');
  cluster.stop();
  rmSync(data, { recursive: true, force: true });
  as('mkdir', ['-m', '0700', data]);
  t = performance.now();
  backrest(`--process-max=${processMax}`, 'restore');
  const files = seconds(t);
  startServer();
  while (psql('postgres', 'select pg_is_in_recovery()') === 't') await new Promise((r) => setTimeout(r, 200));
  const total = seconds(t);
  if (count('stockgraph') !== before) throw new Error('the pgBackRest restore lost orders');
  figures.push([
    `pgbackrest restore --process-max=${processMax}, then open for writes`,
    `${minutes(total)} (files ${minutes(files)}, recovery and start ${minutes(total - files)})`,
  ]);
  say(`pgBackRest restore: ${figures.at(-1)![1]}`);
} finally {
  try {
    cluster.stop('immediate');
  } catch {
    // not running
  }
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}

function du(path: string): string {
  return execFileSync('du', ['-sh', path], { encoding: 'utf8' }).split('\t')[0]!;
}

const loadAtEnd = uptime();
process.stdout.write(`\n| step | time |\n| --- | --- |\n${figures.map(([a, b]) => `| ${a} | ${b} |`).join('\n')}\n`);
process.stdout.write(`load average before: ${loadAtStart}\nload average after:  ${loadAtEnd}\n`);
