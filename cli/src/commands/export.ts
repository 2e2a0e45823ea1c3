import type { Command } from 'commander';
import { exportSqlite, type ExportOutcome } from '../export/exporter.js';
import { positiveInt } from '../options.js';
import type { Output } from '../output.js';
import { requirePostgres, resolveTargets } from '../targets.js';

export function registerExportCommands(program: Command, output: () => Output): void {
  const command = program.command('export').description('write what Stockgraph holds back into the legacy store');

  command
    .command('sqlite')
    .description(
      'write every user, customer, product, order (orders placed after the cutover included) and stock log row into a NEW legacy SQLite file the old application opens: the rollback of a failed cutover',
    )
    .argument('<file>', 'the SQLite file to create (refused if it exists, unless --force)')
    .option('--time-zone <zone>', "the shop's IANA time zone the legacy timestamps are written in", 'Asia/Shanghai')
    .option('--force', 'replace the file if it exists', false)
    .option('--batch-size <n>', 'rows per page read and per SQLite transaction', positiveInt, 5000)
    .addHelpText(
      'after',
      '\nStop the services first: each service is read in one snapshot, but the four are not one snapshot.\n' +
        'The file is written as <file>.partial and renamed only once its row counts and order total (to the cent)\n' +
        'agree with PostgreSQL. Exit 0 then; 1 when the export failed (nothing is left behind); 2 for misuse.',
    )
    .action(async (file: string, options: { timeZone: string; force: boolean; batchSize: number }) => {
      const out = output();
      const urls = requirePostgres(resolveTargets(), 'export sqlite');
      const outcome = await exportSqlite({ file, urls, output: out, ...options });
      out.result(outcome, describe);
    });
}

function describe(r: ExportOutcome): string {
  const skipped = Object.entries(r.skippedMovements)
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
  return [
    `Exported to ${r.file} in ${r.seconds.toFixed(1)} s (timestamps in ${r.timeZone}); verified:`,
    ...r.checks.map((c) => `  ${c.ok ? 'ok' : 'DIFFERS'}  ${c.name}: postgres ${c.postgres}, file ${c.file}`),
    `New since the import (ids above the legacy ones): ${Object.entries(r.newRows)
      .map(([t, n]) => `${n} ${t}`)
      .join(', ')}.`,
    `Ledger rows not exported (they move no stock on hand): ${skipped || 'none'}.`,
    `${r.usersNeedingPasswordReset} user(s) have a password the old application cannot check (argon2): they need a password reset there.`,
    ...(r.usersRenamed ? [`${r.usersRenamed} user(s) exported under their email: their name was taken.`] : []),
    ...(r.ordersWithoutCustomer || r.ordersWithoutCreator || r.movementsWithoutOrder
      ? [
          `References not held, written as NULL: ${r.ordersWithoutCustomer} order customer(s), ${r.ordersWithoutCreator} order creator(s), ${r.movementsWithoutOrder} log order(s).`,
        ]
      : []),
  ].join('\n');
}
