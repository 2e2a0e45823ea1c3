import type { Database } from '@stockgraph/db';
import type { Command } from 'commander';
import {
  checkAggregates,
  hasAggregates,
  rebuildAggregates,
  type AggregateDifference,
  type AggregateService,
} from '../db/aggregates.repository.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { eachSubgraphDatabase } from '../databases.js';
import { changingData } from '../cache.js';

const SERVICES: AggregateService[] = ['orders', 'inventory'];

/** Runs `work` against each service's database (its URL, else the embedded PGlite, as `db migrate`). */
async function eachService<T>(work: (db: Database<Record<string, unknown>>, service: AggregateService) => Promise<T>) {
  return eachSubgraphDatabase(SERVICES, async ({ subgraph: service, database, db }) => {
    if (!(await hasAggregates(db, service as AggregateService)))
      throw new CliError(`${service} (${database}) has no aggregates yet: run \`stockgraph db migrate\` first`);
    return { service: service as AggregateService, database, result: await work(db, service as AggregateService) };
  });
}

function describeCheck(value: { ok: boolean; differences: (AggregateDifference & { service: string })[] }) {
  if (value.ok) return 'Every counter and rollup agrees with the raw rows (orders, inventory).';
  const lines = [`${value.differences.length} aggregate row(s) differ from the raw rows:`];
  for (const d of value.differences)
    lines.push(`  ${d.aggregate} ${d.key}: expected ${d.expected}, stored ${d.stored}`);
  lines.push('Run `stockgraph aggregates rebuild` to recompute them.');
  return lines.join('\n');
}

export function registerAggregateCommands(program: Command, output: () => Output): void {
  const aggregates = program
    .command('aggregates')
    .description('counters and rollups the services keep beside their rows (order totals, units sold, movements)');
  aggregates
    .command('check')
    .description('compare every counter and rollup with a recomputation over the raw rows; exit 1 naming differences')
    .action(async () => {
      const checked = await eachService((db, service) => checkAggregates(db, service));
      const differences = checked.flatMap((c) => c.result.map((d) => ({ service: c.service, ...d })));
      const value = {
        ok: differences.length === 0,
        databases: checked.map((c) => ({ service: c.service, database: c.database, differences: c.result.length })),
        differences,
      };
      output().result(value, describeCheck);
      if (!value.ok) process.exitCode = 1;
    });
  aggregates
    .command('rebuild')
    .description(
      'recompute every counter and rollup from the raw rows, one transaction per service; writers wait meanwhile',
    )
    .action(
      changingData(output, async () => {
        const rebuilt = await eachService(async (db, service) => {
          const started = performance.now();
          await rebuildAggregates(db, service);
          return Math.round(performance.now() - started) / 1000;
        });
        const value = {
          rebuilt: rebuilt.map((r) => ({ service: r.service, database: r.database, seconds: r.result })),
        };
        output().result(value, (v) =>
          v.rebuilt.map((r) => `${r.service} (${r.database}): aggregates rebuilt in ${r.seconds} s`).join('\n'),
        );
      }),
    );
}
