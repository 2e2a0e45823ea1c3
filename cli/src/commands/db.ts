import { existsSync } from 'node:fs';
import type { Database, PartitionedTable } from '@stockgraph/db';
import {
  archivedPartitions,
  archiveSchemaOf,
  exportRecords,
  partitionsToArchive,
  retentionCutoff,
} from '@stockgraph/ops';
import type { Command } from 'commander';
import {
  migrationStatus,
  partitionStatus,
  type MigrationStatus,
  type PartitionStatus,
} from '../db/status.repository.js';
import type { Output } from '../output.js';
import { ARCHIVING_SUBGRAPHS, retentionMonths } from './partitions.js';
import { eachSubgraphDatabase } from '../databases.js';
import type { SubgraphName } from '../targets.js';

interface SubgraphStatus extends MigrationStatus {
  subgraph: string;
  database: string;
  partitionedTables: PartitionStatus[];
  archive?: ArchiveStatus;
}

interface ArchiveStatus {
  schema: string;
  partitions: {
    name: string;
    table: string;
    month: string;
    rows: number;
    /** Where its last export went, and whether the file is there with the rows the partition has now. */
    export: { file: string; exportedAt: string; rows: number; current: boolean } | null;
  }[];
  /** What `partitions archive` would detach now under PARTITION_RETENTION_MONTHS. */
  wouldArchive: string[];
}

interface Retention {
  months: number | null;
  cutoff: string | null;
}

async function archiveStatus(
  db: Database<Record<string, unknown>>,
  tables: PartitionedTable[],
  cutoff: Date | undefined,
): Promise<ArchiveStatus> {
  const records = await exportRecords(db, tables[0]!.schema);
  const archived = await archivedPartitions(db, tables);
  const plan = cutoff ? await partitionsToArchive(db, tables, cutoff) : [];
  return {
    schema: archiveSchemaOf(tables[0]!.schema),
    partitions: archived.map((p) => {
      const r = records.get(p.name);
      return {
        name: p.name,
        table: p.table,
        month: p.month.toISOString().slice(0, 7),
        rows: p.rows,
        export: r
          ? { file: r.file, exportedAt: r.exportedAt, rows: r.rows, current: r.rows === p.rows && existsSync(r.file) }
          : null,
      };
    }),
    wouldArchive: plan.flatMap((m) => m.parts.map((p) => p.name)),
  };
}

// Loaded when a command runs: the subgraph packages are heavy, and `import` or `--help` need none of them.
const migrations = () => import('@stockgraph/ops');

async function status(retention: Retention): Promise<SubgraphStatus[]> {
  const all = await (await migrations()).subgraphDefinitions();
  const cutoff = retention.cutoff ? new Date(retention.cutoff) : undefined;
  const definitions = new Map(all.map((d) => [d.name, d]));
  return eachSubgraphDatabase(
    all.map((d) => d.name as SubgraphName),
    async ({ subgraph, database, db }) => {
      const definition = definitions.get(subgraph)!;
      const migrations = await migrationStatus(db, definition.pgSchema, definition.migrationsFolder);
      const tables = definition.partitionedTables ?? [];
      const partitionedTables =
        migrations.applied.length === 0 ? [] : await Promise.all(tables.map((t) => partitionStatus(db, t)));
      return {
        subgraph,
        database,
        ...migrations,
        partitionedTables,
        ...(ARCHIVING_SUBGRAPHS.includes(subgraph) && tables.length > 0 && migrations.applied.length > 0
          ? { archive: await archiveStatus(db, tables, cutoff) }
          : {}),
      };
    },
  );
}

function describeStatus(rows: SubgraphStatus[], retention: Retention): string {
  const lines: string[] = [
    retention.months === null
      ? 'retention: PARTITION_RETENTION_MONTHS unset, every month stays live'
      : `retention: ${retention.months} month(s) live; \`partitions archive\` detaches months before ${retention.cutoff!.slice(0, 7)}`,
  ];
  for (const s of rows) {
    lines.push(`${s.subgraph} (${s.database})`);
    lines.push(
      `  migrations: ${s.applied.length} applied, ${s.pending.length} pending${s.pending.length ? `: ${s.pending.join(', ')}` : ''}`,
    );
    for (const t of s.partitionedTables) {
      const months = t.partitions.filter((p) => !p.name.endsWith('_default'));
      lines.push(
        `  ${t.table}: ${months.length} monthly partitions, ${t.defaultRows} row(s) in DEFAULT${t.defaultRows ? '  <-- run `stockgraph partitions move-default`' : ''}`,
      );
      for (const p of months) lines.push(`    ${p.name.padEnd(32)} ~${p.estimatedRows} rows`);
    }
    if (s.archive) {
      lines.push(`  archived in ${s.archive.schema}: ${s.archive.partitions.length} partition(s)`);
      for (const p of s.archive.partitions) {
        const state = !p.export
          ? 'not exported'
          : p.export.current
            ? `exported ${p.export.exportedAt} to ${p.export.file}`
            : `export out of date or missing (${p.export.file})`;
        lines.push(`    ${p.name.padEnd(32)} ${p.rows} rows, ${state}`);
      }
      if (retention.months !== null)
        lines.push(
          `  archive would detach now: ${s.archive.wouldArchive.length ? s.archive.wouldArchive.join(', ') : 'nothing'}`,
        );
    }
  }
  return lines.join('\n');
}

export function registerDbCommands(program: Command, output: () => Output): void {
  const db = program.command('db').description('database migrations and their state');
  db.command('migrate')
    .description("apply every subgraph's migrations and create partitions ahead (same as `pnpm db:migrate`)")
    .action(async () => {
      const { migrateDatabases } = await migrations();
      const migrated = await migrateDatabases({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
      output().result({ migrated }, (v) => v.migrated.map((m) => `${m.subgraph}: migrated (${m.driver})`).join('\n'));
    });
  db.command('status')
    .description(
      'per subgraph: migrations, live partitions with row estimates, rows in DEFAULT, archived partitions and their exports, retention',
    )
    .action(async () => {
      const months = retentionMonths() ?? null;
      const retention: Retention = { months, cutoff: months === null ? null : retentionCutoff(months).toISOString() };
      const rows = await status(retention);
      output().result({ retention, subgraphs: rows }, (v) => describeStatus(v.subgraphs, v.retention));
      // Pending migrations or rows in DEFAULT are findings an operator (or a deploy check) must act on.
      if (rows.some((s) => s.pending.length > 0 || s.partitionedTables.some((t) => t.defaultRows > 0)))
        process.exitCode = 1;
    });
}
