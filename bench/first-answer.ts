/**
 * `pnpm bench:start [--runs 5] [--warm]`: milliseconds from spawning `pnpm start`'s script to the
 * first answered cross-subgraph query (sign in, then orders with their customer and products).
 * Cold runs start each time on an empty PGLITE_DIR; --warm keeps the data of a first, unmeasured run.
 * Prints each run's phases (--timings) and the median, min and max; report `uptime` next to them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    warm: { type: 'boolean', default: false },
    port: { type: 'string', default: '4700' },
  },
});
const root = fileURLToPath(new URL('..', import.meta.url));
const url = `http://127.0.0.1:${values.port}/graphql`;
const QUERY =
  '{ orders(first: 3) { totalCount edges { node { number customer { name } items { product { sku } } } } } }';

async function post(query: string, token?: string): Promise<{ data?: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
    signal: AbortSignal.timeout(5000),
  });
  return (await response.json()) as { data?: Record<string, unknown> };
}

async function answered(): Promise<boolean> {
  try {
    const login = await post(
      'mutation { login(email: "manager@stockgraph.local", password: "stockgraph") { accessToken } }',
    );
    const token = (login.data?.login as { accessToken?: string } | undefined)?.accessToken;
    if (!token) return false;
    const orders = (await post(QUERY, token)).data?.orders as
      { edges?: { node: { customer?: unknown } }[] } | undefined;
    return Boolean(orders?.edges?.[0]?.node.customer);
  } catch {
    return false;
  }
}

async function once(dataDir: string): Promise<{ ms: number; output: string }> {
  const started = performance.now();
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--timings'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: values.port,
      PGLITE_DIR: dataDir,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'development',
      DATABASE_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${output}`);
      if (await answered()) return { ms: performance.now() - started, output };
      if (performance.now() - started > 120_000) throw new Error(`no answer within 120 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const times: number[] = [];
const dir = mkdtempSync(join(tmpdir(), 'bench-start-'));
try {
  if (values.warm) await once(join(dir, 'data'));
  for (let i = 0; i < Number(values.runs); i++) {
    if (!values.warm) rmSync(join(dir, 'data'), { recursive: true, force: true });
    const { ms, output } = await once(join(dir, 'data'));
    times.push(ms);
    const phases = output.slice(output.indexOf('Start-up phases'));
    process.stdout.write(`run ${i + 1}: ${Math.round(ms)} ms to the first cross-subgraph answer\n${phases}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
times.sort((a, b) => a - b);
const ms = (n: number) => `${Math.round(n)} ms`;
process.stdout.write(
  `${values.warm ? 'warm' : 'cold'} start to the first answer: median ${ms(times[Math.floor(times.length / 2)]!)} ` +
    `(min ${ms(times[0]!)}, max ${ms(times.at(-1)!)}, ${times.length} runs)\n`,
);
