import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseEnv } from '@stockgraph/config';
import {
  busiestCoordinates,
  deprecatedCoordinates,
  openUsageReader,
  redactUrl,
  usageByClient,
  usageEnvShape,
  usageRecordedSince,
  UsageStoreError,
} from '@stockgraph/usage';
import { InvalidArgumentError, type Command } from 'commander';
import { CliError, misuse } from '../errors.js';
import { positiveInt } from '../options.js';
import type { Output } from '../output.js';

/** The API the gateway serves: its deprecations are the ones clients are warned about. */
const COMMITTED_SUPERGRAPH = fileURLToPath(new URL('../../../schema/supergraph.graphql', import.meta.url));
// Loaded on use: @apollo/federation-internals takes a while to load, and only this command needs it.
const apiSchema = () => import('@stockgraph/graphql-kit/api-schema');

const days = (value: string) => {
  const n = positiveInt(value);
  if (n > 3650) throw new InvalidArgumentError('at most 3650 days');
  return n;
};

interface Usage {
  count: number;
  /** Fewer than count when the gateway sampled: the count is then an estimate. */
  samples: number;
  lastSeen: string;
}

export interface UsageReport {
  database: string;
  days: number;
  /** The first hour the store holds: a window reaching further back covers less than it says. */
  recordedSince: string | null;
  busiest: (Usage & { coordinate: string; clients: number })[];
  /** Per client version, the coordinates deprecated in the API schema it still used. */
  deprecated: { client: string; version: string; coordinates: (Usage & { coordinate: string; reason: string })[] }[];
}

function storeUrl(): string {
  const { USAGE_DATABASE_URL } = parseEnv('stockgraph', { USAGE_DATABASE_URL: usageEnvShape.USAGE_DATABASE_URL });
  if (!USAGE_DATABASE_URL)
    throw misuse('usage report needs USAGE_DATABASE_URL: the database the gateway records usage into');
  return USAGE_DATABASE_URL;
}

async function deprecationsIn(file: string): Promise<Map<string, string>> {
  let sdl: string;
  try {
    sdl = readFileSync(file, 'utf8');
  } catch (error) {
    throw misuse(`--supergraph ${file}: ${(error as Error).message}`);
  }
  const { apiSchemaOf } = await apiSchema();
  return deprecatedCoordinates(apiSchemaOf(sdl));
}

export async function usageReport(options: { days: number; top: number; supergraph: string }): Promise<UsageReport> {
  const url = storeUrl();
  const deprecated = await deprecationsIn(options.supergraph);
  let sql;
  try {
    sql = await openUsageReader(url);
  } catch (error) {
    if (error instanceof UsageStoreError) throw new CliError(error.message);
    throw error;
  }
  try {
    const recordedSince = await usageRecordedSince(sql);
    const busiest = await busiestCoordinates(sql, { days: options.days, top: options.top });
    const used = await usageByClient(sql, { coordinates: [...deprecated.keys()], types: [], days: options.days });
    const byClient = new Map<string, UsageReport['deprecated'][number]>();
    for (const row of used) {
      const key = `${row.clientName}\u0000${row.clientVersion}`;
      let client = byClient.get(key);
      if (!client)
        byClient.set(key, (client = { client: row.clientName, version: row.clientVersion, coordinates: [] }));
      client.coordinates.push({
        coordinate: row.coordinate,
        reason: deprecated.get(row.coordinate)!,
        count: row.count,
        samples: row.samples,
        lastSeen: row.lastSeen.toISOString(),
      });
    }
    return {
      database: redactUrl(url),
      days: options.days,
      recordedSince: recordedSince?.toISOString() ?? null,
      busiest: busiest.map((b) => ({ ...b, lastSeen: b.lastSeen.toISOString() })),
      deprecated: [...byClient.values()].sort(
        (a, b) => a.client.localeCompare(b.client) || a.version.localeCompare(b.version),
      ),
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** `~` marks a count estimated from samples (USAGE_SAMPLE_RATE below 1). */
const shown = (u: Usage) => `${u.samples < u.count ? '~' : ''}${u.count}`;

export function formatUsageReport(report: UsageReport): string {
  const out = [
    `Usage in the last ${report.days} day(s) in ${report.database}${report.recordedSince ? `, kept since ${report.recordedSince}` : ': nothing recorded yet'}`,
    '',
  ];
  if (report.busiest.length === 0) out.push('No operation was recorded in that window.');
  else {
    out.push(`Busiest coordinates (top ${report.busiest.length}):`, '  operations  clients  coordinate');
    for (const b of report.busiest)
      out.push(`  ${shown(b).padStart(10)}  ${String(b.clients).padStart(7)}  ${b.coordinate}`);
  }
  out.push('');
  if (report.deprecated.length === 0) out.push('No client used a deprecated coordinate in that window.');
  else {
    out.push('Clients still using deprecated coordinates:');
    for (const client of report.deprecated) {
      out.push(`  ${client.client} ${client.version || '(no version)'}`);
      for (const c of client.coordinates)
        out.push(`    ${c.coordinate}: ${shown(c)} operation(s), last seen ${c.lastSeen} (deprecated: ${c.reason})`);
    }
  }
  return out.join('\n');
}

export function registerUsageCommands(program: Command, output: () => Output): void {
  const usage = program
    .command('usage')
    .description('schema usage the gateway recorded from real traffic (USAGE_DATABASE_URL)');
  usage
    .command('report')
    .description('the busiest schema coordinates, and the client versions still using deprecated ones')
    .option('--days <n>', 'how many days back to read', days, 30)
    .option('--top <n>', 'how many of the busiest coordinates to list', positiveInt, 20)
    .option('--supergraph <file>', 'the supergraph whose deprecations count (default: the committed one)')
    .action(async (options: { days: number; top: number; supergraph?: string }) => {
      const report = await usageReport({ ...options, supergraph: options.supergraph ?? COMMITTED_SUPERGRAPH });
      output().result(report, formatUsageReport);
    });
}
