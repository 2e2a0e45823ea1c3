import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { openDatabase } from '@stockgraph/db';
import { createLogger } from '@stockgraph/logger';
import type { Command } from 'commander';
import {
  migrationStatus,
  partitionStatus,
  type MigrationStatus,
  type PartitionStatus,
} from '../db/status.repository.js';
import type { Output } from '../output.js';
import { redactUrl, resolveTargets, type SubgraphName } from '../targets.js';

interface SubgraphStatus extends MigrationStatus {
  subgraph: string;
  database: string;
  partitionedTables: PartitionStatus[];
}

// Loaded when a command runs: the subgraph packages are heavy, and `import` or `--help` need none of them.
const migrations = () => import('../../../scripts/db-migrate.js');

async function status(): Promise<SubgraphStatus[]> {
  const { subgraphDefinitions } = await migrations();
  const targets = resolveTargets();
  const logger = createLogger('stockgraph', 'silent');
  let pglite: PGlite | undefined;
  const result: SubgraphStatus[] = [];
  try {
    for (const definition of subgraphDefinitions) {
      const url = targets.urls[definition.name as SubgraphName];
      if (!url && !pglite) {
        mkdirSync(targets.pgliteDir, { recursive: true });
        pglite = await PGlite.create(targets.pgliteDir);
      }
      const handle = await openDatabase({ url, pglite, schema: {}, logger, poolMax: 1 });
      try {
        const migrations = await migrationStatus(handle.db, definition.pgSchema, definition.migrationsFolder);
        const partitionedTables =
          migrations.applied.length === 0
            ? []
            : await Promise.all((definition.partitionedTables ?? []).map((t) => partitionStatus(handle.db, t)));
        result.push({
          subgraph: definition.name,
          database: url ? redactUrl(url) : `pglite:${targets.pgliteDir}`,
          ...migrations,
          partitionedTables,
        });
      } finally {
        await handle.close();
      }
    }
  } finally {
    await pglite?.close();
  }
  return result;
}

function describeStatus(rows: SubgraphStatus[]): string {
  const lines: string[] = [];
  for (const s of rows) {
    lines.push(`${s.subgraph} (${s.database})`);
    lines.push(
      `  migrations: ${s.applied.length} applied, ${s.pending.length} pending${s.pending.length ? `: ${s.pending.join(', ')}` : ''}`,
    );
    for (const t of s.partitionedTables) {
      const months = t.partitions.filter((p) => !p.name.endsWith('_default'));
      lines.push(
        `  ${t.table}: ${months.length} monthly partitions, ${t.defaultRows} row(s) in DEFAULT${t.defaultRows ? '  <-- create the missing months' : ''}`,
      );
      for (const p of months) lines.push(`    ${p.name.padEnd(32)} ~${p.estimatedRows} rows`);
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
    .description('per subgraph: applied and pending migrations, partitions with row estimates, rows in DEFAULT')
    .action(async () => {
      const rows = await status();
      output().result({ subgraphs: rows }, (v) => describeStatus(v.subgraphs));
      // Pending migrations or rows in DEFAULT are findings an operator (or a deploy check) must act on.
      if (rows.some((s) => s.pending.length > 0 || s.partitionedTables.some((t) => t.defaultRows > 0)))
        process.exitCode = 1;
    });
}
