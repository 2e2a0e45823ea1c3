import { run } from '@stockgraph/testkit';
import { finishLoad, prepareSchema, sizes, vacuumAnalyze } from './database.js';
import { generate, type ScaleOptions } from './generate.js';

/**
 * Months of order history into an empty database, as bench:scale and bench:restore both need it:
 * migrations and partitions from one month before the first order (the catalogue's opening stock
 * receipts predate it), the bulk COPY, then VACUUM ANALYZE.
 */
export async function loadHistory(url: string, options: ScaleOptions, now = Date.now()) {
  const from = new Date(now);
  from.setUTCMonth(from.getUTCMonth() - options.months - 1);
  await prepareSchema(url, from);
  const generated = await generate(url, options, now);
  await finishLoad(url, options.orders, generated.picks);
  const vacuumSeconds = await vacuumAnalyze(url);
  return { generated, vacuumSeconds, sizes: await sizes(url) };
}

/** `stockgraph aggregates rebuild`, as after a real bulk load, then VACUUM ANALYZE; seconds of each. */
export async function rebuildAggregates(url: string) {
  const t = performance.now();
  const rebuilt = await run('cli/src/main.ts', { DATABASE_URL: url, LOG_LEVEL: 'warn' }, ['aggregates', 'rebuild']);
  if (rebuilt.code !== 0) throw new Error(`aggregates rebuild exited ${rebuilt.code}: ${rebuilt.stderr}`);
  const seconds = (performance.now() - t) / 1000;
  return { seconds, vacuumSeconds: await vacuumAnalyze(url) };
}
