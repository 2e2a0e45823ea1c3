import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseEnv, retentionEnvShape } from '@stockgraph/config';
import type { PartitionedTable } from '@stockgraph/db';
import {
  archiveMonth,
  archiveSchemaOf,
  archivedPartitions,
  dropArchivedMonth,
  exportRecords,
  moveDefaultRows,
  partitionsToArchive,
  recordExport,
  retentionCutoff,
  PartitionLifecycleError,
} from '@stockgraph/ops';
import { InvalidArgumentError, type Command } from 'commander';
import { sha256File } from '../backup/manifest.js';
import { afterArchive, copyTableOut } from '../db/partition-export.repository.js';
import { CliError, misuse } from '../errors.js';
import type { Output } from '../output.js';
import { eachSubgraphDatabase, type SubgraphDatabase } from '../databases.js';
import type { SubgraphName } from '../targets.js';
import { changingData } from '../cache.js';

export const PARTITION_MANIFEST = 'stockgraph-partitions/1';

interface Group extends SubgraphDatabase {
  tables: PartitionedTable[];
}

const migrations = () => import('@stockgraph/ops');

/**
 * Subgraphs whose old months may leave the live tables. Not inventory: its stock columns are checked
 * and rebuilt from the whole ledger (`stock:check`), so archiving movements needs an opening balance
 * per product first; its DEFAULT rows are still moved.
 */
export const ARCHIVING_SUBGRAPHS: readonly string[] = ['orders'];

/** Runs `work` on every subgraph that partitions tables (orders, inventory), on its own database. */
export async function eachPartitionedGroup<T>(
  work: (group: Group) => Promise<T>,
  only?: readonly string[],
): Promise<T[]> {
  const { subgraphDefinitions } = await migrations();
  const partitioned = (await subgraphDefinitions()).filter(
    (d) => (d.partitionedTables ?? []).length > 0 && (!only || only.includes(d.name)),
  );
  const tablesOf = new Map(partitioned.map((d) => [d.name, d.partitionedTables ?? []]));
  return eachSubgraphDatabase(
    partitioned.map((d) => d.name as SubgraphName),
    (target) => work({ ...target, tables: tablesOf.get(target.subgraph)! }),
  );
}

/** The retention setting, validated like every other variable (a bad value is misuse, exit 2). */
export function retentionMonths(source: NodeJS.ProcessEnv = process.env): number | undefined {
  return parseEnv('stockgraph', retentionEnvShape, source).PARTITION_RETENTION_MONTHS;
}

export function positiveMonths(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1200)
    throw new InvalidArgumentError('a whole number of months, 1 to 1200');
  return Number(value);
}

interface ManifestEntry {
  subgraph: string;
  schema: string;
  table: string;
  partition: string;
  month: string;
  file: string;
  rows: number;
  sha256: string;
  bytes: number;
  exportedAt: string;
}

interface PartitionManifest {
  format: string;
  partitions: ManifestEntry[];
}

function readPartitionManifest(dir: string): PartitionManifest {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) return { format: PARTITION_MANIFEST, partitions: [] };
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as PartitionManifest;
  if (manifest.format !== PARTITION_MANIFEST)
    throw misuse(`${dir}: manifest.json is not a partition export (${JSON.stringify(manifest.format)})`);
  return manifest;
}

/** Why an archived partition's export cannot be trusted, or null when file, manifest and table agree. */
export async function exportProblem(
  record: { file: string; rows: number; sha256: string } | undefined,
  rowsNow: number,
): Promise<string | null> {
  if (!record) return 'never exported';
  if (!existsSync(record.file)) return `its export ${record.file} is missing`;
  let entry: ManifestEntry | undefined;
  try {
    entry = readPartitionManifest(dirname(record.file)).partitions.find((p) => p.file === basename(record.file));
  } catch {
    return `the manifest beside ${record.file} is unreadable`;
  }
  if (!entry || entry.sha256 !== record.sha256) return `the manifest beside ${record.file} does not list this export`;
  if ((await sha256File(record.file)) !== record.sha256) return `${record.file} does not match its SHA-256`;
  if (entry.rows !== rowsNow) return `the export has ${entry.rows} row(s), the partition ${rowsNow} now: export again`;
  return null;
}

const monthOf = (d: Date) => d.toISOString().slice(0, 7);

async function archive(olderThan: number | undefined) {
  const months = olderThan ?? retentionMonths();
  if (months === undefined)
    throw misuse('nothing to archive by: pass --older-than N or set PARTITION_RETENTION_MONTHS');
  const cutoff = retentionCutoff(months);
  const groups = await eachPartitionedGroup(async (g) => {
    const plan = await partitionsToArchive(g.db, g.tables, cutoff);
    for (const { parts } of plan) await archiveMonth(g.db, g.tables, parts, afterArchive[g.subgraph]);
    return {
      subgraph: g.subgraph,
      archiveSchema: archiveSchemaOf(g.tables[0]!.schema),
      archived: plan.flatMap((m) => m.parts.map((p) => p.name)),
    };
  }, ARCHIVING_SUBGRAPHS);
  return { olderThanMonths: months, cutoff: cutoff.toISOString(), groups };
}

async function exportPartitions(to: string, names: string[] | undefined) {
  const dir = resolve(to);
  mkdirSync(dir, { recursive: true });
  const manifest = readPartitionManifest(dir);
  const found: string[] = [];
  const exported: ManifestEntry[] = [];
  await eachPartitionedGroup(async (g) => {
    const all = await archivedPartitions(g.db, g.tables);
    found.push(...all.map((p) => p.name));
    const chosen = names ? all.filter((p) => names.includes(p.name)) : all;
    for (const p of chosen) {
      const file = join(dir, `${p.schema}.${p.name}.copy`);
      const copied = await copyTableOut(g.raw, `"${p.schema}"."${p.name}"`, `${file}.partial`);
      renameSync(`${file}.partial`, file);
      const entry: ManifestEntry = {
        subgraph: g.subgraph,
        schema: p.schema,
        table: p.table,
        partition: p.name,
        month: monthOf(p.month),
        file: basename(file),
        ...copied,
        exportedAt: new Date().toISOString(),
      };
      manifest.partitions = [...manifest.partitions.filter((e) => e.file !== entry.file), entry];
      // The manifest is written before the database records the export: a record always has its manifest.
      writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      await recordExport(g.db, g.tables[0]!.schema, {
        partition: p.name,
        file,
        rows: copied.rows,
        sha256: copied.sha256,
        exportedAt: entry.exportedAt,
      });
      exported.push(entry);
    }
  }, ARCHIVING_SUBGRAPHS);
  const unknown = (names ?? []).filter((n) => !found.includes(n));
  if (unknown.length > 0)
    throw misuse(`no archived partition named ${unknown.join(', ')} (see \`stockgraph db status\`)`);
  return { dir, exported };
}

async function drop(names: string[] | undefined) {
  // Two passes: nothing is dropped unless every chosen month of every subgraph verifies.
  const plans = await eachPartitionedGroup(async (g) => {
    const all = await archivedPartitions(g.db, g.tables);
    const named = all.filter((p) => !names || names.includes(p.name));
    // A month of a group goes as a whole: orders with their items.
    const months = new Set(named.map((p) => monthOf(p.month)));
    const chosen = all.filter((p) => months.has(monthOf(p.month)));
    const records = await exportRecords(g.db, g.tables[0]!.schema);
    const problems: string[] = [];
    for (const p of chosen) {
      const problem = await exportProblem(records.get(p.name), p.rows);
      if (problem) problems.push(`${p.schema}.${p.name}: ${problem}`);
    }
    return { g: { subgraph: g.subgraph, tables: g.tables }, chosen, problems, names: all.map((p) => p.name) };
  }, ARCHIVING_SUBGRAPHS);
  const unknown = (names ?? []).filter((n) => !plans.some((p) => p.names.includes(n)));
  if (unknown.length > 0)
    throw misuse(`no archived partition named ${unknown.join(', ')} (see \`stockgraph db status\`)`);
  const problems = plans.flatMap((p) => p.problems);
  if (problems.length > 0)
    throw new CliError(
      `refusing to drop: ${problems.join('; ')}. Run \`stockgraph partitions export --to DIR\` first; nothing was dropped.`,
    );
  const dropped: string[] = [];
  await eachPartitionedGroup(async (g) => {
    const plan = plans.find((p) => p.g.subgraph === g.subgraph);
    const months = [...new Set((plan?.chosen ?? []).map((p) => monthOf(p.month)))].sort();
    for (const month of months) {
      const parts = plan!.chosen.filter((p) => monthOf(p.month) === month);
      await dropArchivedMonth(g.db, g.tables, parts);
      dropped.push(...parts.map((p) => `${p.schema}.${p.name}`));
    }
  }, ARCHIVING_SUBGRAPHS);
  return { dropped };
}

export function registerPartitionCommands(program: Command, output: () => Output): void {
  const partitions = program
    .command('partitions')
    .description('the life of monthly partitions: archive old months, export them, drop them; empty DEFAULT');
  partitions
    .command('archive')
    .description(
      'detach months wholly older than N months from the live tables into <schema>_archive ' +
        '(queries reach them on request, e.g. orders(filter: { archived: true }))',
    )
    .option('--older-than <months>', 'whole months to keep live (default: PARTITION_RETENTION_MONTHS)', positiveMonths)
    .action(
      changingData(output, async (options: { olderThan?: number }) => {
        const result = await archive(options.olderThan);
        output().result(result, (v) =>
          [
            `archiving months before ${v.cutoff.slice(0, 7)} (older than ${v.olderThanMonths} month(s))`,
            ...v.groups.map(
              (g) =>
                `${g.subgraph}: ${g.archived.length ? `${g.archived.length} partition(s) into ${g.archiveSchema}: ${g.archived.join(', ')}` : 'nothing to archive'}`,
            ),
          ].join('\n'),
        );
      }),
    );
  partitions
    .command('export')
    .description('COPY archived partitions to files in DIR, with manifest.json (row counts, SHA-256)')
    .requiredOption('--to <dir>', 'directory for the files and manifest.json')
    .option('--partition <names...>', 'only these archived partitions (default: every archived one)')
    .action(async (options: { to: string; partition?: string[] }) => {
      const result = await exportPartitions(options.to, options.partition);
      output().result(result, (v) =>
        v.exported.length === 0
          ? 'no archived partitions to export'
          : v.exported.map((e) => `${e.schema}.${e.partition}: ${e.rows} row(s) -> ${join(v.dir, e.file)}`).join('\n'),
      );
    });
  partitions
    .command('drop')
    .description(
      'drop archived partitions whose export exists and verifies (a month goes whole: orders with their items); ' +
        'refuses, dropping nothing, otherwise',
    )
    .option('--partition <names...>', 'only the months of these archived partitions (default: every archived one)')
    .action(
      changingData(output, async (options: { partition?: string[] }) => {
        const result = await drop(options.partition);
        output().result(result, (v) =>
          v.dropped.length ? `dropped ${v.dropped.join(', ')}` : 'nothing archived to drop',
        );
      }),
    );
  partitions
    .command('move-default')
    .description(
      'move rows out of DEFAULT partitions into monthly ones (created as needed), one transaction per table group',
    )
    .action(async () => {
      const moved = await eachPartitionedGroup(async (g) => ({
        subgraph: g.subgraph,
        tables: await moveDefaultRows(g.db, g.tables).catch((error: unknown) => {
          throw error instanceof PartitionLifecycleError ? new CliError(error.message) : error;
        }),
      }));
      output().result({ moved }, (v) =>
        v.moved
          .flatMap((m) => m.tables.map((t) => `${t.table}: ${t.moved} of ${t.before} row(s) moved out of DEFAULT`))
          .join('\n'),
      );
    });
}
