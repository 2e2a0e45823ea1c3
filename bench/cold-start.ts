/**
 * Cold start of one service: milliseconds from spawning its process to the first 200 from /ready.
 *   tsx bench/cold-start.ts --cwd <dir> [--runs 5] -- <command …>
 * The service's environment comes from this process (PORT must be fixed, e.g. PORT=4901). Each run
 * starts the command, polls /ready every 10 ms, stops it with SIGTERM and waits for it to exit;
 * the median, min and max are printed. Compare the built output with tsx:
 *   tsx bench/cold-start.ts --cwd out/users -- node dist/subgraphs/users/src/server.js
 *   tsx bench/cold-start.ts --cwd subgraphs/users -- node --import tsx src/server.ts
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: { cwd: { type: 'string', default: '.' }, runs: { type: 'string', default: '5' } },
  allowPositionals: true,
});
const port = process.env.PORT;
if (!port || port === '0' || positionals.length === 0)
  throw new Error('usage: PORT=<fixed> tsx bench/cold-start.ts --cwd DIR -- COMMAND…');

async function once(): Promise<number> {
  const started = performance.now();
  const child = spawn(positionals[0]!, positionals.slice(1), { cwd: values.cwd, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before it was ready`);
      const status = await fetch(`http://127.0.0.1:${port}/ready`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return performance.now() - started;
      if (performance.now() - started > 60_000) throw new Error('not ready within 60 s');
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const times: number[] = [];
for (let i = 0; i < Number(values.runs); i++) times.push(await once());
times.sort((a, b) => a - b);
const ms = (n: number) => `${Math.round(n)} ms`;
process.stdout.write(
  `to /ready: median ${ms(times[Math.floor(times.length / 2)]!)} ` +
    `(min ${ms(times[0]!)}, max ${ms(times.at(-1)!)}, ${times.length} runs)\n`,
);
