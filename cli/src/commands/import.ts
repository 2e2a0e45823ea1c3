import { resolve } from 'node:path';
import type { Command } from 'commander';
import { importLegacy, replanImport } from '../import/importer.js';
import { buildReport, writeReports, type ImportReport, type ReportInput } from '../import/report.js';
import { syncLegacy } from '../import/sync.js';
import { verifyImport } from '../import/verify.js';
import { generateLegacyFile } from '../legacy/generator.js';
import { snapshotLegacy, type LegacySnapshot } from '../legacy/snapshot.js';
import { positiveInt } from '../options.js';
import type { Output } from '../output.js';
import { requirePostgres, resolveTargets, type SubgraphName } from '../targets.js';
import { changingData } from '../cache.js';

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
      'import a legacy SQLite file into migrated, empty services; resumable; verified; keeps every sale (merging duplicates), quarantines only what cannot be placed',
    )
    .argument(
      '<file>',
      'the legacy SQLite database (read from a consistent copy: the legacy application may keep writing it)',
    )
    .option(
      '--sync',
      'bring a finished import up to date with the file: write only the rows that are new, changed or gone since the last run',
      false,
    )
    .option('--time-zone <zone>', "the shop's IANA time zone the legacy timestamps are in", 'Asia/Shanghai')
    .option('--report <dir>', 'where to write verification.{json,md} and quarantine.{json,md}', 'legacy-import-report')
    .option('--chunk-size <n>', 'legacy orders (and log rows) per transaction', positiveInt, 10_000)
    .addHelpText(
      'after',
      '\nExit 0 only when every legacy row is imported or quarantined with a reason and the verification agrees.',
    )
    .action(
      changingData(
        output,
        async (file: string, options: { timeZone: string; report: string; chunkSize: number; sync: boolean }) => {
          const out = output();
          const urls = requirePostgres(resolveTargets(), 'import sqlite');
          await withSnapshot(file, async (legacy) => {
            const outcome = options.sync
              ? await syncLegacy({ legacy, urls, output: out })
              : await importLegacy({
                  legacy,
                  timeZone: options.timeZone,
                  urls,
                  output: out,
                  chunkSize: options.chunkSize,
                });
            await verifyAndReport(
              out,
              options.sync ? 'import sync' : 'import sqlite',
              outcome,
              urls,
              options.report,
              legacy,
            );
          });
        },
      ),
    );

  command
    .command('verify')
    .description(
      'check a finished import against its legacy file again: every row, revenue to the cent, units and stock per product, per month and overall',
    )
    .argument('<file>', 'the legacy SQLite database that was imported')
    .option('--report <dir>', 'where to write verification.{json,md} and quarantine.{json,md}', 'legacy-import-report')
    .addHelpText(
      'after',
      '\nExit 0 when Stockgraph still agrees with the file, 1 when a figure differs (the reports name the rows), ' +
        '2 when the target holds no finished import of this file.',
    )
    .action(async (file: string, options: { report: string }) => {
      const out = output();
      const urls = requirePostgres(resolveTargets(), 'import verify');
      await withSnapshot(file, async (legacy) => {
        const replanned = await replanImport({ legacy, urls });
        await verifyAndReport(
          out,
          'import verify',
          {
            ...replanned,
            resumed: false,
            writeSeconds: 0,
            rowsPerSecond: 0,
            phases: { 'decisions made again': replanned.seconds },
            written: {},
          },
          urls,
          options.report,
          legacy,
        );
      });
    });
}

/** Runs `work` on a consistent copy of the legacy file, deleted afterwards whatever happens. */
async function withSnapshot(file: string, work: (legacy: LegacySnapshot) => Promise<void>): Promise<void> {
  const legacy = await snapshotLegacy(file);
  try {
    await work(legacy);
  } finally {
    legacy.close();
  }
}

/** Verifies an import (just made, or finished earlier), writes the reports, and says the outcome. */
async function verifyAndReport(
  out: Output,
  commandName: ImportReport['command'],
  outcome: ReportInput,
  urls: Record<SubgraphName, string>,
  reportDir: string,
  legacy: LegacySnapshot,
): Promise<void> {
  const verifyStart = performance.now();
  const verification = await verifyImport(legacy.db, urls, outcome.planner.quarantine, outcome.timeZone);
  outcome.phases.verification = Math.round(performance.now() - verifyStart) / 1000;
  const report = buildReport(outcome, verification, commandName, legacy.notes);
  const files = writeReports(reportDir, report, outcome.planner.quarantine, outcome.planner.flags);
  const rows = Object.values(report.legacyRows).reduce((a, b) => a + b, 0);
  out.result({ ...report, reports: files }, (r) =>
    [
      commandName === 'import verify'
        ? `${r.ok ? 'Verified' : 'Verification FAILED'}: the import of ${rows} legacy rows, checked again.`
        : commandName === 'import sync'
          ? `${r.ok ? 'Synced and verified' : 'Sync verification FAILED'}: ${rows} legacy rows compared in ${r.seconds.toFixed(1)} s; ` +
            `written: ${
              Object.entries(r.written)
                .map(([t, n]) => `${t} ${n}`)
                .join(', ') || 'nothing (no change)'
            }.`
          : `${r.ok ? 'Imported and verified' : 'Import verification FAILED'}: ${rows} legacy rows in ${r.seconds.toFixed(1)} s (${r.rowsPerSecond} rows/s)${r.resumed ? ', resumed' : ''}.`,
      ...r.notes.map((note) => `Note: ${note}.`),
      `Quarantined ${r.quarantine.notImported} row(s); merged ${r.quarantine.merged} into another row; ` +
        `kept ${r.quarantine.keptOnPlaceholder} order line(s) against a placeholder product; ${r.quarantine.fieldsKeptInNotes} field(s) kept in notes.`,
      ...r.verification.checks
        .filter((c) => !c.ok)
        .map(
          (c) =>
            `  disagrees: ${c.name} (legacy ${c.legacy}, stockgraph ${c.stockgraph}; ${c.differences.length} difference(s): ` +
            `${c.differences
              .slice(0, 3)
              .map((d) => `${d.table} ${d.id}`)
              .join(', ')}${c.differences.length > 3 ? ', …' : ''})`,
        ),
      `Reports: ${files.join(', ')}`,
    ].join('\n'),
  );
  if (!report.ok) process.exitCode = 1;
}
