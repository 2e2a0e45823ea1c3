/**
 * PostgreSQL's own tools (initdb, pg_ctl) and pgBackRest refuse to run as root: as root, the tests and
 * benches that run them do so as the `postgres` user, in a private directory that user owns.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './process.js';

export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const asRoot = process.getuid?.() === 0;
const asPostgres = (command: string, args: string[]): [string, string[]] =>
  asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];

/** Runs a command as the postgres user (as root) or as ourselves; its stdout, or an error with its stderr. */
export function as(command: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const [file, argv] = asPostgres(command, args);
  try {
    return execFileSync(file, argv, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: error });
  }
}

/** A long-running command (pgBackRest's TLS server) as the postgres user; the caller kills it. */
export function spawnAs(command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const [file, argv] = asPostgres(command, args);
  return spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
}

/** A private directory the postgres user owns and everyone may enter. */
export function privateDirectory(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  return dir;
}

/**
 * A PostgreSQL cluster of the caller's own: data in `dir`/data, its socket in `dir`, listening on
 * `port` (127.0.0.1), run as the postgres user. `env` reaches the server, hence its archive_command.
 */
export function privateCluster(dir: string, port: number, env: NodeJS.ProcessEnv = {}) {
  const data = join(dir, 'data');
  const pgCtl = (args: string[]) => as(join(PG_BIN, 'pg_ctl'), ['-D', data, ...args], env);
  return {
    data,
    init: (...extra: string[]) => as(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', ...extra]),
    /** Appends lines to postgresql.conf (after initdb). */
    configure: (lines: string) =>
      writeFileSync(
        join(data, 'postgresql.conf'),
        `${readFileSync(join(data, 'postgresql.conf'), 'utf8')}\n${lines}\n`,
      ),
    start: (timeoutSeconds = 120) =>
      pgCtl([
        '-w',
        '-t',
        String(timeoutSeconds),
        '-l',
        join(dir, 'server.log'),
        '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
        'start',
      ]),
    stop: (mode: 'fast' | 'immediate' = 'fast') => pgCtl(['-m', mode, 'stop']),
    psql: (sql: string, database = 'postgres') =>
      as('psql', ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', database, '-At', '-c', sql]).trim(),
  };
}

/**
 * The committed pgBackRest configuration (`infra/pgbackrest/pgbackrest.conf`, or `text`) with whole
 * `option=value` lines replaced; `undefined` removes a line. An option the file lacks is an error, so a
 * renamed option cannot leave a test silently running the machine's real paths.
 */
export function pgbackrestConfig(options: Record<string, string | undefined>, text?: string): string {
  let out = text ?? readFileSync(join(ROOT, 'infra/pgbackrest/pgbackrest.conf'), 'utf8');
  for (const [name, value] of Object.entries(options)) {
    const line = new RegExp(`^${name}=.*$\\n?`, 'm');
    if (!line.test(out)) throw new Error(`${name} is not in the configuration`);
    out = out.replace(line, value === undefined ? '' : `${name}=${value}\n`);
  }
  return out;
}

/** The committed archiving lines for postgresql.conf, archive_command pointed at `config`. */
export function archivingLines(config: string): string {
  return readFileSync(join(ROOT, 'infra/pgbackrest/postgresql.archiving.conf'), 'utf8').replace(
    'pgbackrest --stanza=stockgraph',
    `pgbackrest --config=${config} --stanza=stockgraph`,
  );
}
