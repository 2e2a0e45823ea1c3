import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PG_BIN as BIN } from './as-postgres.js';

const run = promisify(execFile);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface OwnPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication). */
  url: string;
  port: number;
  start(): Promise<void>;
  /** A fast shutdown: connections are cut, as when the server goes away. */
  stop(): Promise<void>;
  remove(): Promise<void>;
}

/** A private directory the server may own: run as root, PostgreSQL runs as the `postgres` user. */
async function serverDirectory() {
  const dir = mkdtempSync(join(tmpdir(), 'pg-'));
  const root = userInfo().uid === 0;
  if (root)
    chownSync(
      dir,
      Number((await run('id', ['-u', 'postgres'])).stdout),
      Number((await run('id', ['-g', 'postgres'])).stdout),
    );
  const pg = (tool: string, args: string[]) =>
    root ? run('runuser', ['-u', 'postgres', '--', join(BIN, tool), ...args]) : run(join(BIN, tool), args);
  return { dir, data: join(dir, 'data'), pg };
}

/** pg_ctl start/stop for a data directory on `port`; `remove` also deletes the directory. */
async function serve(
  { dir, data, pg }: Awaited<ReturnType<typeof serverDirectory>>,
  port: number,
  extra = '',
): Promise<OwnPostgres> {
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50 ${extra}`;
  const start = async () => {
    await pg('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  };
  const stop = async () => {
    await pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    remove: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A PostgreSQL server of the test's own on a free port (initdb + pg_ctl), for tests that stop the
 * database under a service; the machine's shared server is never touched.
 */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const server = await serverDirectory();
  await server.pg('initdb', ['-D', server.data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  return serve(server, await freePort());
}

/**
 * A hot standby of `primary` on a free port: a pg_basebackup of it (with the standby settings, `-R`)
 * that streams and replays its WAL, answering reads only. initdb's default pg_hba.conf already lets
 * local connections replicate, and PostgreSQL 15's defaults (wal_level replica, 10 WAL senders) allow it.
 * A short wal_receiver_status_interval makes the primary's view of the standby's progress prompt.
 */
export async function startOwnReplica(primary: OwnPostgres): Promise<OwnPostgres> {
  const server = await serverDirectory();
  await server.pg('pg_basebackup', [
    '-D',
    server.data,
    '-h',
    '127.0.0.1',
    '-p',
    String(primary.port),
    '-U',
    'postgres',
    '-X',
    'stream',
    '-R',
    '--no-sync',
  ]);
  return serve(server, await freePort(), '-c hot_standby=on -c wal_receiver_status_interval=1');
}
