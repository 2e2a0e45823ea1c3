import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { importLegacy } from '../import/importer.js';
import { buildReport, writeReports } from '../import/report.js';
import { verifyImport } from '../import/verify.js';
import { generateLegacyFile } from '../legacy/generator.js';
import { openLegacy } from '../legacy/reader.js';
import type { Output } from '../output.js';
import { requirePostgres, resolveTargets } from '../targets.js';

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

export function registerImportCommands(program: Command, output: () => Output): void {
  const command = program.command('import').description('bring the legacy SQLite store into Stockgraph');

  command
    .command('make-legacy')
    .description(
      'write a legacy SQLite file (the legacy schema, exactly) with generated data; user passwords are pw-<username>',
    )
    .argument('<file>', 'where to write it (replaced if it exists)')
    .requiredOption(
      '--orders <n>',
      'number of orders (items, log rows, customers and products scale with it)',
      positiveInt,
    )
    .option('--seed <s>', 'seed: the same seed writes the same file', positiveInt, 1)
    .option('--dirty', 'include every kind of dirty data real files carry', false)
    .action((file: string, options: { orders: number; seed: number; dirty: boolean }) => {
      const out = output();
      const bar = out.progress('writing', options.orders * 6);
      let last = 0;
      const counts = generateLegacyFile(file, { ...options, onProgress: (n) => (bar.increment(n - last), (last = n)) });
      bar.stop();
      out.result(
        { file: resolve(file), ...counts },
        (c) =>
          `Wrote ${c.file}: ${c.total} rows (${c.orders} orders, ${c.order_items} items, ${c.inventory_log} log rows, ${c.customers} customers, ${c.products} products, ${c.users} users).`,
      );
    });

  command
    .command('sqlite')
    .description(
      'import a legacy SQLite file into migrated, empty services; resumable; verified; quarantines dirty rows',
    )
    .argument('<file>', 'the legacy SQLite database')
    .option('--time-zone <zone>', "the shop's IANA time zone the legacy timestamps are in", 'Asia/Shanghai')
    .option('--report <dir>', 'where to write verification.{json,md} and quarantine.{json,md}', 'legacy-import-report')
    .option('--chunk-size <n>', 'legacy orders (and log rows) per transaction', positiveInt, 10_000)
    .addHelpText(
      'after',
      '\nExit 0 only when every legacy row is imported or quarantined with a reason and the verification agrees.',
    )
    .action(async (file: string, options: { timeZone: string; report: string; chunkSize: number }) => {
      const out = output();
      const urls = requirePostgres(resolveTargets(), 'import sqlite');
      const outcome = await importLegacy({
        file,
        timeZone: options.timeZone,
        urls,
        output: out,
        chunkSize: options.chunkSize,
      });
      const legacy = openLegacy(file);
      let verification;
      const verifyStart = performance.now();
      try {
        verification = await verifyImport(legacy, urls, outcome.planner.quarantine);
      } finally {
        legacy.close();
      }
      outcome.phases.verification = Math.round(performance.now() - verifyStart) / 1000;
      const report = buildReport(outcome, verification);
      const files = writeReports(options.report, report, outcome.planner.quarantine, outcome.planner.flags);
      out.result({ ...report, reports: files }, (r) =>
        [
          `${r.ok ? 'Imported and verified' : 'Import verification FAILED'}: ${Object.values(r.legacyRows).reduce((a, b) => a + b, 0)} legacy rows in ${r.seconds.toFixed(1)} s (${r.rowsPerSecond} rows/s)${r.resumed ? ', resumed' : ''}.`,
          `Quarantined ${r.quarantine.notImported} row(s); ${r.quarantine.fieldsKeptInNotes} field(s) kept in notes.`,
          ...r.verification.checks
            .filter((c) => !c.ok)
            .map(
              (c) =>
                `  disagrees: ${c.name} (legacy ${c.legacy}, stockgraph ${c.stockgraph}; ${c.differences.length} difference(s))`,
            ),
          `Reports: ${files.join(', ')}`,
        ].join('\n'),
      );
      if (!report.ok) process.exitCode = 1;
    });
}
