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
      const first = stderr.split('\n').find((l) => l.trim()) ?? `exit code ${code}`;
      reject(new CliError(`${tool} failed: ${first.replace(/^(pg_dump|pg_restore): /, '')}`));
    });
  });
}
