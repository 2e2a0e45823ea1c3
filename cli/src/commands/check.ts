import http from 'node:http';
import { InvalidArgumentError, type Command } from 'commander';
import { Gauge, Registry } from 'prom-client';
import { INVARIANTS, checkInvariants, type InvariantOptions, type InvariantResult } from '../invariants.js';
import { misuse } from '../errors.js';
import type { Output } from '../output.js';

/** A whole number of seconds in [min, max]. */
const seconds = (min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`must be a whole number of seconds from ${min} to ${max}`);
  return n;
};
const port = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('must be a port, 0 to 65535');
  return n;
};

interface CheckFlags {
  grace: number;
  pendingDeadline: number;
  outboxBound: number;
  watch?: number;
  metricsPort?: number;
  metricsHost: string;
}

const check = async (options: InvariantOptions) => {
  const { ledgerMismatchesIn } = await import('@stockgraph/inventory/stock-check');
  return checkInvariants(options, ledgerMismatchesIn);
};

function describe(results: InvariantResult[]): string {
  const lines = results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.holds}${r.ok ? '' : ` (${r.count})`}`);
  for (const r of results.filter((x) => !x.ok)) {
    lines.push(
      '',
      `${r.name}: ${r.count} violation(s)${r.count > r.violations.length ? `, the first ${r.violations.length}` : ''}:`,
    );
    for (const v of r.violations) lines.push(`  ${v.key}: ${v.detail}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  lines.push('', failed === 0 ? 'Every invariant holds.' : `${failed} invariant(s) violated.`);
  return lines.join('\n');
}

/**
 * The checks as metrics, for Prometheus and the StockgraphInvariantViolated alert: run every `every`
 * seconds and served on /metrics until SIGTERM or SIGINT.
 */
async function watch(flags: CheckFlags & { watch: number }, options: InvariantOptions): Promise<void> {
  const registry = new Registry();
  const violations = new Gauge({
    name: 'stockgraph_invariant_violations',
    help: 'Violations of each cross-service invariant found by the last check (stockgraph check)',
    labelNames: ['invariant'],
    registers: [registry],
  });
  const success = new Gauge({
    name: 'stockgraph_invariant_check_success',
    help: '1 when the last check ran to the end, 0 when it could not (a database unreachable)',
    registers: [registry],
  });
  const lastRun = new Gauge({
    name: 'stockgraph_invariant_check_timestamp_seconds',
    help: 'When the last complete check ended (Unix time)',
    registers: [registry],
  });
  const duration = new Gauge({
    name: 'stockgraph_invariant_check_duration_seconds',
    help: 'How long the last complete check took',
    registers: [registry],
  });
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
  });
  await new Promise<void>((resolve) => server.listen(flags.metricsPort ?? 0, flags.metricsHost, resolve));
  const address = server.address() as { port: number };
  process.stdout.write(
    `${JSON.stringify({ msg: 'invariant metrics served', metricsUrl: `http://${flags.metricsHost}:${address.port}/metrics` })}\n`,
  );
  let stopped = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    stopped = true;
    wake?.();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  while (!stopped) {
    const started = performance.now();
    try {
      const results = await check(options);
      for (const r of results) violations.set({ invariant: r.name }, r.count);
      success.set(1);
      lastRun.set(Date.now() / 1000);
      duration.set((performance.now() - started) / 1000);
      const failed = results.filter((r) => !r.ok).map((r) => `${r.name} (${r.count})`);
      process.stdout.write(`${JSON.stringify({ msg: 'invariants checked', violated: failed })}\n`);
    } catch (error) {
      success.set(0);
      process.stderr.write(`stockgraph check: ${(error as Error).message}\n`);
    }
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, flags.watch * 1000).unref();
    });
  }
  await new Promise((resolve) => server.close(resolve));
}

export function registerCheckCommands(program: Command, output: () => Output): void {
  program
    .command('check')
    .description('prove every cross-service invariant the saga promises; exit 1 naming each violation')
    .addHelpText(
      'after',
      `\nInvariants:\n${Object.entries(INVARIANTS)
        .map(([name, holds]) => `  ${name}: ${holds}`)
        .join('\n')}`,
    )
    .option(
      '--grace <seconds>',
      'rows changed this recently are a saga still moving, not a violation',
      seconds(0, 3600),
      60,
    )
    .option('--pending-deadline <seconds>', 'an order PENDING longer than this is stuck', seconds(1, 86_400), 120)
    .option(
      '--outbox-bound <seconds>',
      'an event unpublished this long after it was written is late',
      seconds(1, 86_400),
      60,
    )
    .option(
      '--watch <seconds>',
      'check again every N seconds and serve the results as metrics (does not exit)',
      seconds(5, 86_400),
    )
    .option('--metrics-port <port>', 'with --watch: where /metrics is served (0: any free port)', port)
    .option('--metrics-host <host>', 'with --watch: the address /metrics listens on', '0.0.0.0')
    .action(async (flags: CheckFlags) => {
      const options = {
        graceSeconds: flags.grace,
        pendingDeadlineSeconds: flags.pendingDeadline,
        outboxBoundSeconds: flags.outboxBound,
      };
      if (flags.watch !== undefined) return watch({ ...flags, watch: flags.watch }, options);
      if (flags.metricsPort !== undefined)
        throw misuse('--metrics-port serves the checks of --watch: add --watch <seconds>');
      const results = await check(options);
      output().result({ ok: results.every((r) => r.ok), invariants: results }, (v) => describe(v.invariants));
      if (!results.every((r) => r.ok)) process.exitCode = 1;
    });
}
