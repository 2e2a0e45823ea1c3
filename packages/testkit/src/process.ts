import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { bundled } from '@stockgraph/bundle';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote, for failure messages. */
  output: string[];
  stop(): Promise<void>;
}

/**
 * Runs one service entry point (a TypeScript file under the repo root, from an esbuild bundle of it,
 * or a built `.js` bundle, as is) as its own Node process, the way it runs in production, and resolves
 * with the URL it logged once it listens. A bundle rather than tsx: every test file starts a stack of
 * five services, and each started in about 0.6 of the time (docs/operators/deploy.md, Build). `nodeArgs` go to Node
 * itself (e.g. `--cpu-prof`, which NODE_OPTIONS refuses); with `--import tsx` among them the
 * TypeScript source runs through tsx instead of a bundle.
 */
export async function startProcess(
  entry: string,
  env: Record<string, string>,
  timeoutMs = Number(process.env.START_TIMEOUT_MS ?? 180_000),
  nodeArgs: string[] = [],
): Promise<ServiceProcess> {
  const [file, ...args] = entry.split(' ');
  const script = file!.endsWith('.ts') && !nodeArgs.includes('tsx') ? await bundled(file!) : file!;
  const child = spawn(process.execPath, ['--enable-source-maps', ...nodeArgs, script, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((resolve) => {
      // A process under --cpu-prof writes its profile only if it exits by itself: benches wait longer.
      const timer = setTimeout(() => child.kill('SIGKILL'), Number(process.env.STOP_TIMEOUT_MS ?? 5000));
      child.once('exit', () => resolve(clearTimeout(timer)));
    });
  };
  let listening = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${entry} did not start within ${timeoutMs} ms:\n${output.join('\n')}`));
    }, timeoutMs);
    createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (listening || !line.startsWith('{')) return;
      const record = JSON.parse(line) as { msg?: string; url?: string };
      if (record.url && record.msg?.endsWith('listening')) {
        clearTimeout(timer);
        listening = true;
        resolve({ url: record.url, child, output, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code}:\n${output.join('\n')}`));
    });
  });
}

/** Runs a command to completion and returns its exit code and output. */
export function run(
  entry: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
