import type { LoadStat } from './copy.js';
import { BUDGET } from './operations.js';
import type { Timing } from './timing.js';

const out = (lines: string[]) => process.stdout.write(`${lines.join('\n')}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export function printLoad(
  stats: LoadStat[],
  loadSeconds: number,
  vacuumSeconds: number,
  totalSeconds: number,
  sizes: { table: string; rows: number; mb: number }[],
) {
  const rows = stats.reduce((n, s) => n + s.rows, 0);
  out([
    '',
    '| table | rows | seconds | rows/s |',
    '| --- | --- | --- | --- |',
    ...stats.map((s) => `| ${s.table} | ${fmt(s.rows)} | ${s.seconds.toFixed(1)} | ${fmt(s.rows / s.seconds)} |`),
    '',
    `orders and items streamed in ${loadSeconds.toFixed(1)} s; ${fmt(rows)} rows in all; ` +
      `VACUUM ANALYZE ${vacuumSeconds.toFixed(1)} s; generation total ${totalSeconds.toFixed(1)} s ` +
      '(database creation, migrations, partitions, COPY, VACUUM ANALYZE)',
    `on disk: ${sizes
      .filter((s) => s.mb > 0)
      .map((s) => `${s.table} ${fmt(s.mb)} MB`)
      .join(', ')}`,
    '',
  ]);
}

const partitionsOf = (t: Timing) =>
  t.partitions
    ? Object.entries(t.partitions)
        .map(([table, n]) => `${table} ${n}`)
        .join(', ') || '0'
    : '–';

export function printTimings(
  timings: Timing[],
  cached: Timing[],
  context: {
    runs: number;
    warmup: number;
    cacheTtlMs: number;
    cacheWired: boolean;
    counts: Record<string, number>;
    loadAtStart: string;
    loadAtEnd: string;
  },
) {
  const budgetOf = (t: Timing) => BUDGET[t.operation.budget];
  const mark = (t: Timing) => (t.errors > 0 ? `errors ×${t.errors}` : t.p95 > budgetOf(t) ? 'OVER' : 'ok');
  const errors = [...timings, ...cached].filter((t) => t.error).map((t) => `- ${t.operation.name}: ${t.error}`);
  const cachedOf = (t: Timing) => cached.find((c) => c.operation.name === t.operation.name);
  out([
    `Through the gateway as a manager, ${context.warmup} warm-up and ${context.runs} timed runs each, ` +
      'sources bundled per service (testkit startStack)',
    `partitions in the database: ${Object.entries(context.counts)
      .map(([table, n]) => `${table} ${n}`)
      .join(', ')}`,
    '',
    '| operation | p50 ms | p95 ms | budget p95 ms | | partitions scanned (one run) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...timings.map(
      (t) =>
        `| ${t.operation.name} | ${t.p50.toFixed(1)} | ${t.p95.toFixed(1)} | ${budgetOf(t)} | ${mark(t)} | ${partitionsOf(t)} |`,
    ),
    '',
    `Catalogue operations, Redis catalogue cache off (CATALOGUE_CACHE_TTL_MS=0) and on (${context.cacheTtlMs})` +
      (context.cacheWired ? '' : ' — this code does not read CATALOGUE_CACHE_TTL_MS yet, so both are uncached'),
    '',
    '| operation | off p50 | off p95 | on p50 | on p95 |',
    '| --- | --- | --- | --- | --- |',
    ...timings
      .filter((t) => t.operation.catalogue)
      .map((t) => {
        const c = cachedOf(t);
        return `| ${t.operation.name} | ${t.p50.toFixed(1)} | ${t.p95.toFixed(1)} | ${c?.p50.toFixed(1) ?? '–'} | ${c?.p95.toFixed(1) ?? '–'} |`;
      }),
    '',
    ...(errors.length ? ['Errors:', ...errors, ''] : []),
    `load at start: ${context.loadAtStart}`,
    `load at end:   ${context.loadAtEnd}`,
  ]);
}
