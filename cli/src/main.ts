/**
 * `stockgraph`: the operator CLI (`pnpm stockgraph <command>`). Exit codes: 0 ok, 1 a check or the
 * work failed, 2 misuse (unknown command or flag, unusable input file).
 */
import { ConfigError } from '@stockgraph/config';
import { Command, CommanderError } from 'commander';
import { registerAggregateCommands } from './commands/aggregates.js';
import { registerBackupCommands } from './commands/backup.js';
import { registerCheckCommands } from './commands/check.js';
import { registerCacheCommands } from './commands/cache.js';
import { registerDbCommands } from './commands/db.js';
import { registerExportCommands } from './commands/export.js';
import { registerImportCommands } from './commands/import.js';
import { registerPartitionCommands } from './commands/partitions.js';
import { registerStockCommands } from './commands/stock.js';
import { registerUsageCommands } from './commands/usage.js';
import { CliError, describeDatabaseError, EXIT_FAILED, EXIT_MISUSE } from './errors.js';
import { createOutput, type Output } from './output.js';

export function buildProgram(): Command {
  const program = new Command('stockgraph')
    .description(
      'Stockgraph operator commands: migrations, stock checks, aggregates, legacy import, backups, schema usage',
    )
    .option('--json', 'print the result as one JSON document (for scripts)', false)
    .showHelpAfterError()
    .exitOverride()
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 a check or the work failed, 2 misuse (bad command, flag or input file).\n' +
        'Databases: <NAME>_DATABASE_URL, else DATABASE_URL, else embedded PGlite in PGLITE_DIR (as db:migrate).',
    );
  const output = (): Output => createOutput(program.opts<{ json: boolean }>().json);
  registerDbCommands(program, output);
  registerStockCommands(program, output);
  registerCheckCommands(program, output);
  registerImportCommands(program, output);
  registerExportCommands(program, output);
  registerBackupCommands(program, output);
  registerPartitionCommands(program, output);
  registerAggregateCommands(program, output);
  registerUsageCommands(program, output);
  registerCacheCommands(program, output);
  for (const command of program.commands) {
    command.exitOverride().showHelpAfterError();
    for (const sub of command.commands) sub.exitOverride().showHelpAfterError();
  }
  return program;
}

/** Turns anything thrown into one line on stderr and an exit code; a stack only for real bugs. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // --help and --version throw too; they are not failures.
    return error.exitCode === 0 ? 0 : EXIT_MISUSE;
  }
  if (error instanceof CliError) {
    process.stderr.write(`stockgraph: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`stockgraph: ${error.problems.join('; ')}\n`);
    return EXIT_MISUSE;
  }
  const unreachable = describeDatabaseError(error, 'the database');
  if (unreachable) {
    process.stderr.write(`stockgraph: ${unreachable.message}\n`);
    return EXIT_FAILED;
  }
  process.stderr.write(
    `stockgraph: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return EXIT_FAILED;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    return exitCodeFor(error);
  }
}

const code = await main(process.argv.slice(2));
// Exit only once stdout has taken everything: a long report piped into another program was cut short
// by exiting while the pipe still held queued writes.
process.stdout.write('', () => process.exit(code));
