/**
 * `pnpm bench:start [--runs 5] [--warm] [--tsx]`: milliseconds from spawning `pnpm start`'s script to
 * the first answered cross-subgraph query (sign in, then orders with their customer and products).
 * Cold runs start each time as a fresh clone's first start after `pnpm install` does: an empty
 * PGLITE_DIR (the install built the template and the launcher bundle); --warm keeps the data of a
 * first, unmeasured run. --tsx also runs
 * scripts/start.ts through tsx, as `pnpm start` did before it ran from a bundle, alternating with it.
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
    tsx: { type: 'boolean', default: false },
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

type Launcher = 'bundle' | 'tsx';
const LAUNCH: Record<Launcher, string[]> = {
  bundle: ['scripts/start.mjs', '--timings'],
  tsx: ['--import', 'tsx', 'scripts/start.ts', '--timings'],
};

async function once(dataDir: string, launcher: Launcher): Promise<{ ms: number; output: string }> {
  const started = performance.now();
  let output = '';
  const child = spawn(process.execPath, LAUNCH[launcher], {
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

const launchers: Launcher[] = values.tsx ? ['bundle', 'tsx'] : ['bundle'];
const times = new Map<Launcher, number[]>(launchers.map((l) => [l, []]));
const dir = mkdtempSync(join(tmpdir(), 'bench-start-'));
try {
  if (values.warm) for (const launcher of launchers) await once(join(dir, launcher), launcher);
  for (let i = 0; i < Number(values.runs); i++) {
    for (const launcher of launchers) {
      if (!values.warm) rmSync(join(dir, launcher), { recursive: true, force: true });
      const { ms, output } = await once(join(dir, launcher), launcher);
      times.get(launcher)!.push(ms);
      const phases = output.slice(output.indexOf('Start-up phases'));
      process.stdout.write(
        `run ${i + 1} (${launcher}): ${Math.round(ms)} ms to the first cross-subgraph answer\n${phases}\n`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const ms = (n: number) => `${Math.round(n)} ms`;
for (const [launcher, runs] of times) {
  runs.sort((a, b) => a - b);
  process.stdout.write(
    `${values.warm ? 'warm' : 'cold'} start to the first answer (${launcher}): ` +
      `median ${ms(runs[Math.floor(runs.length / 2)]!)} (min ${ms(runs[0]!)}, max ${ms(runs.at(-1)!)}, ${runs.length} runs)\n`,
  );
}
