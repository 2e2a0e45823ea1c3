import { spawn } from 'node:child_process';
import { CliError } from '../errors.js';

/** pg_dump/pg_restore take the password from the environment, so it never shows in `ps`. */
export function connectionArgs(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const parsed = new URL(url);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (parsed.password) {
    env.PGPASSWORD = decodeURIComponent(parsed.password);
    parsed.password = '';
  }
  return { dbname: parsed.toString(), env };
}

/** Runs a PostgreSQL client tool; a failure is one line naming the tool and its first complaint. */
export function runTool(tool: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) =>
      reject(new CliError(`${tool} could not run (${error.message}); install the PostgreSQL client tools`)),
    );
    child.on('exit', (code) => {
      if (code === 0) return resolve();
      reject(new CliError(`${tool} failed: ${reasonIn(stderr, code).replace(/^(pg_dump|pg_restore): /, '')}`));
    });
  });
}

/**
 * The line of a tool's stderr that says why it failed: its first error (NOTICEs and warnings, which
 * come first, say nothing about the failure), else its last line, else the exit code.
 */
export function reasonIn(stderr: string, code: number | null): string {
  const lines = stderr.split('\n').filter((l) => l.trim());
  return lines.find((l) => /\b(ERROR|FATAL|PANIC):|\berror:/.test(l)) ?? lines.at(-1) ?? `exit code ${code}`;
}

/** The restore transaction's own settings: a maintenance job's memory for its index builds and checks. */
const RESTORE_SETTINGS = [`set local maintenance_work_mem = '512MB'`, `set local work_mem = '128MB'`];

/**
 * Restores dumps into one database in ONE transaction: each dump becomes SQL (pg_restore -f -) piped
 * into a single `psql --single-transaction`, between the statements given before and after. If any
 * dump cannot be read or any statement fails, psql is stopped before it commits, so the database is
 * left exactly as it was.
 *
 * Every dump's tables and rows come first, then ANALYZE, then every dump's indexes, constraints and
 * triggers: without statistics the foreign-key checks that ALTER TABLE runs over freshly loaded rows
 * were planned blind, and one of them was 40% of a whole restore. The index builds and those checks
 * get the memory of a maintenance job (RESTORE_SETTINGS), for this transaction only.
 */
export function restoreAtomically(url: string, dumps: string[], before: string[], after: string[]): Promise<void> {
  const { dbname, env } = connectionArgs(url);
  return new Promise((resolve, reject) => {
    const psql = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', `--dbname=${dbname}`], {
      env,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let psqlErr = '';
    let failure: CliError | undefined;
    psql.stderr.on('data', (chunk: Buffer) => (psqlErr += chunk.toString()));
    psql.stdin.on('error', () => {}); // psql gone: its exit says why
    psql.on('error', (error) =>
      reject(new CliError(`psql could not run (${error.message}); install the PostgreSQL client tools`)),
    );
    psql.on('exit', (code) => {
      if (failure) return reject(failure);
      if (code === 0) return resolve();
      reject(
        new CliError(`restore failed, nothing was changed: ${reasonIn(psqlErr, code).replace(/^psql:[^ ]* /, '')}`),
      );
    });
    const abort = (why: CliError) => {
      failure = why;
      psql.kill('SIGTERM');
    };
    const pipeDump = (dump: string, sections: string[]) =>
      new Promise<boolean>((done) => {
        const args = ['--no-owner', '--no-privileges', ...sections.map((x) => `--section=${x}`), '-f', '-', dump];
        const child = spawn('pg_restore', args, {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.stdout.pipe(psql.stdin, { end: false });
        child.on('error', (error) => {
          abort(new CliError(`pg_restore could not run (${error.message}); install the PostgreSQL client tools`));
          done(false);
        });
        child.on('close', (code) => {
          if (code === 0) return done(true);
          abort(
            new CliError(`restore failed, nothing was changed: ${reasonIn(stderr, code).replace(/^pg_restore: /, '')}`),
          );
          done(false);
        });
      });
    const statements = (list: string[]) => list.map((s) => `${s};\n`).join('');
    void (async () => {
      psql.stdin.write(statements([...RESTORE_SETTINGS, ...before]));
      for (const dump of dumps) if (!(await pipeDump(dump, ['pre-data', 'data']))) return;
      psql.stdin.write(statements(['analyze']));
      for (const dump of dumps) if (!(await pipeDump(dump, ['post-data']))) return;
      psql.stdin.end(statements(after));
    })();
  });
}
