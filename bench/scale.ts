/**
 * Stockgraph at scale: generates months of realistic order history with bulk COPY into a database of
 * its own, then times every read operation of schema/operations and the table of issue 15 through the
 * gateway as a manager, with the partitions each one's SQL touched and the budgets next to the figures.
 *
 *   pnpm bench:scale [--orders 10000000] [--customers 400] [--products 2000] [--months 24] [--seed N]
 *                    [--runs 30] [--warmup 3] [--database-url URL] [--keep] [--reuse URL]
 *                    [--stats-wait-ms 12000] [--cache-ttl-ms 60000] [--json FILE]
 *
 * Without --database-url or --reuse it creates `sg_scale_<random>` on the local server and drops it at
 * the end unless --keep. `--reuse URL` skips generation on a database an earlier run kept: pending
 * migrations are applied, then (as after the load) `stockgraph aggregates rebuild` when the CLI has it.
 * Catalogue operations are timed with the Redis catalogue cache off (CATALOGUE_CACHE_TTL_MS=0) and on.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '@stockgraph/testkit';
import { dropRedisKeys } from '@stockgraph/testkit/saga';
import { createScaleDatabase, databaseName, dropDatabase, prepareSchema, readPicks } from './scale/database.js';
import type { Picks } from './scale/generate.js';
import { loadHistory, rebuildAggregates } from './scale/load.js';
import { operations } from './scale/operations.js';
import { partitionProbe } from './scale/partitions.js';
import { printLoad, printTimings } from './scale/report.js';
import { startScaleStack, timeOperations } from './scale/timing.js';

const usage =
  'usage: pnpm bench:scale [--orders N] [--customers N] [--products N] [--months N] [--seed N] [--runs N] ' +
  '[--warmup N] [--database-url URL | --reuse URL] [--keep] [--stats-wait-ms N] [--cache-ttl-ms N] [--json FILE]\n';
let values;
try {
  ({ values } = parseArgs({
    options: {
      orders: { type: 'string', default: '10000000' },
      customers: { type: 'string', default: '400' },
      products: { type: 'string', default: '2000' },
      months: { type: 'string', default: '24' },
      seed: { type: 'string', default: '15' },
      runs: { type: 'string', default: '30' },
      warmup: { type: 'string', default: '3' },
      'database-url': { type: 'string' },
      reuse: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'stats-wait-ms': { type: 'string', default: '12000' },
      'cache-ttl-ms': { type: 'string', default: '60000' },
      json: { type: 'string' },
    },
    strict: true,
  }));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
const int = (name: keyof typeof values, min: number) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${name} must be an integer ≥ ${min}\n${usage}`);
    process.exit(2);
  }
  return n;
};
const options = {
  orders: int('orders', 1000),
  customers: int('customers', 50),
  products: int('products', 10),
  months: int('months', 2),
  seed: int('seed', 0),
};
const runs = int('runs', 1);
const warmup = int('warmup', 0);
const statsWaitMs = int('stats-wait-ms', 0);
const cacheTtlMs = int('cache-ttl-ms', 1);
if (values.reuse && values['database-url']) {
  process.stderr.write(`--reuse and --database-url exclude each other\n${usage}`);
  process.exit(2);
}

const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
const say = (line: string) => process.stderr.write(`${line}\n`);
const loadAtStart = uptime();
const started = performance.now();
// Only a database this run created is dropped; one given with --database-url or --reuse is the caller's.
const created = values.reuse || values['database-url'] ? undefined : await createScaleDatabase();
const url = values.reuse ?? values['database-url'] ?? created!.url;
const name = databaseName(url);
const prefix = `sgscale:${randomBytes(6).toString('hex')}:`;
const result: Record<string, unknown> = { database: name, options, runs, warmup, loadAtStart };

try {
  say(`database ${name}; ${loadAtStart}`);
  let picks: Picks;
  if (values.reuse) {
    const t = performance.now();
    picks = await readPicks(url);
    const from = new Date(picks.from);
    from.setUTCMonth(from.getUTCMonth() - 1);
    await prepareSchema(url, from);
    say(`reused: migrations and partitions checked in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  } else {
    const { generated, vacuumSeconds, sizes: loaded } = await loadHistory(url, options);
    picks = generated.picks;
    const totalSeconds = (performance.now() - started) / 1000;
    result.load = { ...generated, vacuumSeconds, totalSeconds, sizes: loaded };
    printLoad(generated.stats, generated.loadSeconds, vacuumSeconds, totalSeconds, loaded);
  }

  if (existsSync(path.join(ROOT, 'cli/src/commands/aggregates.ts'))) {
    const { seconds, vacuumSeconds: vacuum } = await rebuildAggregates(url);
    result.aggregatesRebuildSeconds = seconds;
    say(`aggregates rebuild: ${seconds.toFixed(1)} s (then VACUUM ANALYZE ${vacuum.toFixed(1)} s)`);
  } else say('aggregates rebuild: not in this code (no cli/src/commands/aggregates.ts)');

  const probe = partitionProbe(url, statsWaitMs);
  try {
    const cacheOff = await startScaleStack(url, prefix, picks.managerEmail, { CATALOGUE_CACHE_TTL_MS: '0' });
    let timings;
    try {
      const ops = operations(picks, await cacheOff.deepCursor(picks.deepOrderId));
      timings = await timeOperations(cacheOff, ops, { runs, warmup, say });
      say(`partitions touched: one run per operation, ${statsWaitMs} ms apart`);
      for (const t of timings)
        t.partitions = await probe.measure(() => cacheOff.run(t.operation).catch((error: Error) => say(error.message)));
    } finally {
      await cacheOff.stop();
    }
    const cacheOn = await startScaleStack(url, prefix, picks.managerEmail, {
      CATALOGUE_CACHE_TTL_MS: String(cacheTtlMs),
    });
    let cached;
    try {
      cached = await timeOperations(
        cacheOn,
        operations(picks, '').filter((o) => o.catalogue),
        { runs, warmup, say },
      );
    } finally {
      await cacheOn.stop();
    }
    const cacheWired = cacheOn.cacheSetting;
    const loadAtEnd = uptime();
    const counts = await probe.partitionCounts();
    printTimings(timings, cached, { runs, warmup, cacheTtlMs, cacheWired, counts, loadAtStart, loadAtEnd });
    Object.assign(result, {
      loadAtEnd,
      partitions: counts,
      timings: timings.map(({ operation, ...t }) => ({ ...t, operation: operation.name })),
      catalogueCacheOn: {
        ttlMs: cacheTtlMs,
        wired: cacheWired,
        timings: cached.map(({ operation, ...t }) => ({ ...t, operation: operation.name })),
      },
    });
  } finally {
    await probe.close();
  }
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await dropRedisKeys(prefix).catch(() => {});
  if (created && !values.keep) {
    await dropDatabase(created.name);
    say(`dropped ${created.name}`);
  } else say(`kept ${name}: pnpm bench:scale --reuse ${url}`);
}
