/**
 * PostgreSQL's own tools (initdb, pg_ctl) and pgBackRest refuse to run as root: as root, the tests and
 * benches that run them do so as the `postgres` user, in a private directory that user owns.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
