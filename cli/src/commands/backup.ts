import { parseEnv, postgresUrl, z } from '@stockgraph/config';
import type { Command } from 'commander';
import type { Output } from '../output.js';
import { resolveTargets } from '../targets.js';

function backupEnv() {
  return parseEnv('stockgraph backup', {
    BACKUP_DIR: z.string().min(1).default('backups'),
    BACKUP_KEEP: z.coerce.number().int().min(1).default(7),
    BACKUP_SCRATCH_URL: postgresUrl.optional(),
    DATABASE_URL: postgresUrl.optional(),
  });
}

// The backup service reads the subgraph definitions (heavy): loaded only when a backup command runs.
const service = () => import('../backup/service.js');

const formatBytes = (n: number) => (n > 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`);

export function registerBackupCommands(program: Command, output: () => Output): void {
  const backup = program
    .command('backup')
    .description(
      'logical backups per subgraph schema (pg_dump custom format) or of the embedded PGlite data, with a manifest',
    );
  const dirOption = ['--dir <dir>', 'where backups are kept (default: BACKUP_DIR, else ./backups)'] as const;

  backup
    .command('create')
    .description('back up every subgraph, write the manifest (checksums, row counts, schema versions), apply retention')
    .option(...dirOption)
    .option('--keep <n>', 'keep this many newest backups (default: BACKUP_KEEP, else 7)')
    .action(async (options: { dir?: string; keep?: string }) => {
      const env = backupEnv();
      const keep = options.keep === undefined ? env.BACKUP_KEEP : z.coerce.number().int().min(1).parse(options.keep);
      const { createBackup } = await service();
      const result = await createBackup(resolveTargets(), options.dir ?? env.BACKUP_DIR, keep);
      output().result(result, (r) =>
        [
          `Backup ${r.id} (${r.driver}, ${formatBytes(r.bytes)}) in ${r.path}.`,
          ...r.removedByRetention.map((id) => `Removed ${id} (retention: keep ${keep}).`),
        ].join('\n'),
      );
    });

  backup
    .command('list')
    .description('list the backups, newest first')
    .option(...dirOption)
    .action(async (options: { dir?: string }) => {
      const { listBackups } = await service();
      const backups = listBackups(options.dir ?? backupEnv().BACKUP_DIR);
      output().result({ backups }, (r) =>
        r.backups.length === 0
          ? 'No backups.'
          : r.backups
              .map((b) =>
                'error' in b
                  ? `${b.id}  UNREADABLE: ${b.error}`
                  : `${b.id}  ${b.driver}  ${formatBytes(b.bytes)}  ${b.rows} rows`,
              )
              .join('\n'),
      );
    });

  backup
    .command('verify')
    .description('check checksums, restore into a scratch database and compare every row count with the manifest')
    .argument('<backup>', 'a backup id (see `backup list`) or a backup directory')
    .option(...dirOption)
    .action(async (id: string, options: { dir?: string }) => {
      const env = backupEnv();
      const { verifyBackup, locateBackup } = await service();
      const result = await verifyBackup(
        locateBackup(options.dir ?? env.BACKUP_DIR, id),
        env.BACKUP_SCRATCH_URL ?? resolveTargets().urls.users,
      );
      output().result(result, (r) =>
        r.ok
          ? `Backup ${r.id} is whole: restored into a scratch database, every row count matches the manifest.`
          : [
              `Backup ${r.id} does NOT match its manifest:`,
              ...r.differences.map((d) => `  ${d.subgraph}.${d.table}: manifest ${d.manifest}, restored ${d.restored}`),
            ].join('\n'),
      );
      if (!result.ok) process.exitCode = 1;
    });

  backup
    .command('restore')
    .description(
      'restore a backup into empty databases (or an empty PGLITE_DIR); refuses non-empty targets unless --force',
    )
    .argument('<backup>', 'a backup id (see `backup list`) or a backup directory')
    .option(...dirOption)
    .option('--force', 'replace the schemas (or PGlite directory) that already hold data', false)
    .action(async (id: string, options: { dir?: string; force: boolean }) => {
      const { restoreBackup, locateBackup } = await service();
      const result = await restoreBackup(
        locateBackup(options.dir ?? backupEnv().BACKUP_DIR, id),
        resolveTargets(),
        options.force,
      );
      output().result(result, (r) =>
        r.restored.length > 0
          ? `Restored backup ${r.id}: ${r.restored.join(', ')}.`
          : `Backup ${r.id} is already restored here (an earlier run finished it): nothing to do.`,
      );
    });
}
