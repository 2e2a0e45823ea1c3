/**
 * Logical backups: one pg_dump (custom format, compressed) per subgraph schema, or the embedded
 * PGlite data directory as one tarball, with a manifest of checksums, row counts and schema versions.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { openPglite } from '@stockgraph/db';
import { databaseUrlVariable, subgraphEntry } from '@stockgraph/registry';
import { subgraphDefinitions } from '@stockgraph/ops';
import {
  createDatabase,
  dropDatabase,
  dropSchemaSql,
  latestMigration,
  schemaComment,
  schemaRowCounts,
  schemaTables,
  type Query,
} from '../db/backup.repository.js';
import { shippedMigrations } from '../db/status.repository.js';
import { CliError, describeDatabaseError, misuse } from '../errors.js';
import { redactUrl, SUBGRAPH_NAMES, type SubgraphName, type Targets } from '../targets.js';
import {
  checkFiles,
  listBackupDirs,
  MANIFEST_FORMAT,
  readManifest,
  sha256File,
  type Manifest,
  type SubgraphEntry,
} from './manifest.js';
import { connectionArgs, restoreAtomically, runTool } from './tools.js';

const PGLITE_FILE = 'pglite.tar.gz';
/** Set on each restored schema in the restore's transaction: a re-run knows this backup is already in. */
const restoreMark = (id: string) => `stockgraph backup ${id.replace(/[^0-9A-Za-z-]/g, '')}`;
const schemaOf = (name: string) => subgraphEntry(name).pgSchema;

function postgresQuery(url: string): { query: Query; close: () => Promise<void> } {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  return {
    query: async <T extends object>(text: string) => {
      try {
        return [...(await sql.unsafe<T[]>(text))];
      } catch (error) {
        throw describeDatabaseError(error, redactUrl(url)) ?? error;
      }
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

function pgliteQuery(pg: PGlite): Query {
  return async <T extends object>(text: string) => (await pg.query<T>(text)).rows;
}

async function describeSubgraphs(queryFor: (name: SubgraphName) => Query): Promise<SubgraphEntry[]> {
  const entries: SubgraphEntry[] = [];
  for (const name of SUBGRAPH_NAMES) {
    const query = queryFor(name);
    const schema = schemaOf(name);
    const latest = await latestMigration(query, schema);
    if (latest === null) throw new CliError(`subgraph ${name} has no migrations applied: nothing to back up`);
    const [applied] = await query<{ n: string }>(`select count(*)::text as n from "${schema}".__drizzle_migrations`);
    entries.push({
      name,
      schema,
      migrations: Number(applied?.n ?? 0),
      latestMigration: latest,
      rowCounts: await schemaRowCounts(query, schema),
    });
  }
  return entries;
}

const backupId = (now = new Date()) => `${now.toISOString().replace(/[:.]/g, '-')}`;

export interface CreateResult {
  id: string;
  path: string;
  driver: Manifest['driver'];
  bytes: number;
  removedByRetention: string[];
}

export async function createBackup(targets: Targets, root: string, keep: number): Promise<CreateResult> {
  const id = backupId();
  const partial = join(root, `${id}.partial`);
  mkdirSync(partial, { recursive: true });
  try {
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      id,
      createdAt: new Date().toISOString(),
      driver: 'postgres',
      files: [],
      subgraphs: [],
    };
    const anyUrl = SUBGRAPH_NAMES.some((n) => targets.urls[n]);
    if (!anyUrl) {
      if (!existsSync(targets.pgliteDir))
        throw misuse(`no database to back up: DATABASE_URL is unset and ${targets.pgliteDir} does not exist`);
      manifest.driver = 'pglite';
      const pg = await openPglite(targets.pgliteDir);
      try {
        manifest.subgraphs = await describeSubgraphs(() => pgliteQuery(pg));
        const dump = await pg.dumpDataDir('gzip');
        writeFileSync(join(partial, PGLITE_FILE), Buffer.from(await dump.arrayBuffer()));
      } finally {
        await pg.close();
      }
      manifest.files.push({
        file: PGLITE_FILE,
        sha256: await sha256File(join(partial, PGLITE_FILE)),
        bytes: statSync(join(partial, PGLITE_FILE)).size,
      });
    } else {
      const clients = new Map<string, ReturnType<typeof postgresQuery>>();
      const urlOf = (name: SubgraphName) => {
        const url = targets.urls[name];
        if (!url)
          throw misuse(
            `${name} has no database URL while others have one: set DATABASE_URL or ${databaseUrlVariable(subgraphEntry(name))}`,
          );
        return url;
      };
      try {
        // Counts first, then the dumps: on a quiet database (the documented way) they describe the same state.
        manifest.subgraphs = await describeSubgraphs((name) => {
          const url = urlOf(name);
          if (!clients.has(url)) clients.set(url, postgresQuery(url));
          return clients.get(url)!.query;
        });
      } finally {
        await Promise.all([...clients.values()].map((c) => c.close()));
      }
      for (const name of SUBGRAPH_NAMES) {
        const file = `${name}.dump`;
        const { dbname, env } = connectionArgs(urlOf(name));
        await runTool(
          'pg_dump',
          [
            '--format=custom',
            '--compress=6',
            `--schema=${schemaOf(name)}`,
            `--file=${join(partial, file)}`,
            `--dbname=${dbname}`,
          ],
          env,
        );
        manifest.files.push({
          file,
          sha256: await sha256File(join(partial, file)),
          bytes: statSync(join(partial, file)).size,
        });
      }
    }
    writeFileSync(join(partial, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    // A backup is complete only under its final name: a crash mid-way leaves a .partial, never a half backup.
    renameSync(partial, join(root, id));
    const removedByRetention = applyRetention(root, keep);
    return {
      id,
      path: join(root, id),
      driver: manifest.driver,
      bytes: manifest.files.reduce((a, f) => a + f.bytes, 0),
      removedByRetention,
    };
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
}

/** Keeps the newest `keep` complete backups; removes older ones and leftovers of crashed runs. */
export function applyRetention(root: string, keep: number): string[] {
  const removed: string[] = [];
  for (const old of listBackupDirs(root).slice(keep)) {
    rmSync(join(root, old), { recursive: true, force: true });
    removed.push(old);
  }
  for (const entry of readdirSync(root)) {
    if (entry.endsWith('.partial')) rmSync(join(root, entry), { recursive: true, force: true });
  }
  return removed;
}

export function listBackups(root: string) {
  return listBackupDirs(root).map((id) => {
    try {
      const m = readManifest(join(root, id));
      const rows = m.subgraphs.reduce((a, s) => a + Object.values(s.rowCounts).reduce((x, y) => x + y, 0), 0);
      return { id, createdAt: m.createdAt, driver: m.driver, bytes: m.files.reduce((a, f) => a + f.bytes, 0), rows };
    } catch (error) {
      return { id, error: (error as Error).message };
    }
  });
}

/** A backup by id (a directory under root) or by path. */
export function locateBackup(root: string, idOrPath: string): string {
  const candidates = [join(root, idOrPath), idOrPath];
  const found = candidates.find((p) => existsSync(join(p, 'manifest.json')));
  if (!found) throw misuse(`no backup ${idOrPath} (looked in ${root}); see \`stockgraph backup list\``);
  return found;
}

export interface VerifyResult {
  id: string;
  ok: boolean;
  differences: { subgraph: string; table: string; manifest: number | null; restored: number | null }[];
}

function compareCounts(manifest: Manifest, restored: Record<string, Record<string, number>>): VerifyResult {
  const differences: VerifyResult['differences'] = [];
  for (const s of manifest.subgraphs) {
    const got = restored[s.name] ?? {};
    for (const table of new Set([...Object.keys(s.rowCounts), ...Object.keys(got)])) {
      if (s.rowCounts[table] !== got[table])
        differences.push({
          subgraph: s.name,
          table,
          manifest: s.rowCounts[table] ?? null,
          restored: got[table] ?? null,
        });
    }
  }
  return { id: manifest.id, ok: differences.length === 0, differences };
}

/** The server's maintenance database, where scratch databases are created and dropped. */
function maintenanceUrl(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = '/postgres';
  return parsed.toString();
}

/**
 * Checks the files against their checksums, restores them into a scratch database (or an in-memory
 * PGlite) and compares every table's row count with the manifest.
 */
export async function verifyBackup(dir: string, scratchServerUrl: string | undefined): Promise<VerifyResult> {
  const manifest = readManifest(dir);
  await checkFiles(dir, manifest);
  const restored: Record<string, Record<string, number>> = {};
  if (manifest.driver === 'pglite') {
    const pg = await PGlite.create({ loadDataDir: new Blob([readFileSync(join(dir, PGLITE_FILE))]) });
    try {
      for (const s of manifest.subgraphs) restored[s.name] = await schemaRowCounts(pgliteQuery(pg), s.schema);
    } finally {
      await pg.close();
    }
    return compareCounts(manifest, restored);
  }
  if (!scratchServerUrl)
    throw misuse(
      'backup verify needs a PostgreSQL server for its scratch database: set DATABASE_URL or BACKUP_SCRATCH_URL',
    );
  const admin = postgresQuery(maintenanceUrl(scratchServerUrl));
  const scratch = `sg_backup_verify_${randomBytes(4).toString('hex')}`;
  try {
    await createDatabase(admin.query, scratch);
    const scratchUrl = new URL(scratchServerUrl);
    scratchUrl.pathname = `/${scratch}`;
    const { dbname, env } = connectionArgs(scratchUrl.toString());
    for (const s of manifest.subgraphs) {
      await runTool(
        'pg_restore',
        [
          '--no-owner',
          '--no-privileges',
          '--exit-on-error',
          '--single-transaction',
          `--dbname=${dbname}`,
          join(dir, `${s.name}.dump`),
        ],
        env,
      );
    }
    const client = postgresQuery(scratchUrl.toString());
    try {
      for (const s of manifest.subgraphs) restored[s.name] = await schemaRowCounts(client.query, s.schema);
    } finally {
      await client.close();
    }
    return compareCounts(manifest, restored);
  } finally {
    await dropDatabase(admin.query, scratch).catch(() => {});
    await admin.close();
  }
}

/** A backup taken by a newer Stockgraph has migrations this one does not know: restoring it would lie. */
async function assertKnownSchema(manifest: Manifest): Promise<void> {
  const definitions = await subgraphDefinitions();
  for (const s of manifest.subgraphs) {
    const definition = definitions.find((d) => d.name === s.name);
    if (!definition) throw new CliError(`backup ${manifest.id} has an unknown subgraph ${s.name}`);
    const shipped = shippedMigrations(definition.migrationsFolder);
    if (s.latestMigration !== null && !shipped.some((m) => m.when === s.latestMigration)) {
      throw new CliError(
        `backup ${manifest.id} is from a newer schema version: ${s.name}'s migration of ${new Date(s.latestMigration).toISOString()} is unknown to this Stockgraph; upgrade it first`,
      );
    }
  }
}

export async function restoreBackup(
  dir: string,
  targets: Targets,
  force: boolean,
): Promise<{ id: string; restored: string[] }> {
  const manifest = readManifest(dir);
  await assertKnownSchema(manifest);
  await checkFiles(dir, manifest);
  if (manifest.driver === 'pglite') {
    if (SUBGRAPH_NAMES.some((n) => targets.urls[n]))
      throw misuse('this backup is of embedded PGlite data; unset DATABASE_URL to restore it into PGLITE_DIR');
    const target = targets.pgliteDir;
    if (existsSync(target) && readdirSync(target).length > 0) {
      if (!force)
        throw new CliError(`${target} is not empty; restore into an empty directory or pass --force to replace it`);
      rmSync(target, { recursive: true, force: true });
    }
    mkdirSync(target, { recursive: true });
    const pg = await PGlite.create({ dataDir: target, loadDataDir: new Blob([readFileSync(join(dir, PGLITE_FILE))]) });
    await pg.close();
    return { id: manifest.id, restored: manifest.subgraphs.map((s) => s.name) };
  }
  const urls = Object.fromEntries(
    manifest.subgraphs.map((s) => {
      const url = targets.urls[s.name as SubgraphName];
      if (!url)
        throw misuse(
          `restore needs PostgreSQL for ${s.name}: set DATABASE_URL or ${databaseUrlVariable(subgraphEntry(s.name))}`,
        );
      return [s.name, url];
    }),
  );
  // Look at every target before touching any: a refusal leaves everything as it was. A schema this
  // very backup already restored (an earlier run that got that far) is done, not in the way.
  const pending: SubgraphEntry[] = [];
  for (const s of manifest.subgraphs) {
    const client = postgresQuery(urls[s.name]!);
    try {
      const tables = await schemaTables(client.query, s.schema);
      if (tables > 0 && !force) {
        if ((await schemaComment(client.query, s.schema)) === restoreMark(manifest.id)) continue;
        throw new CliError(
          `${redactUrl(urls[s.name]!)}: schema ${s.schema} is not empty (${tables} tables); restore into an empty database or pass --force to replace it`,
        );
      }
      pending.push(s);
    } finally {
      await client.close();
    }
  }
  // One transaction per database, holding every subgraph that lives there, the --force drop and the
  // mark: a restore that fails anywhere leaves that database as it was, so a re-run starts clean.
  const byDatabase = new Map<string, SubgraphEntry[]>();
  for (const s of pending) byDatabase.set(urls[s.name]!, [...(byDatabase.get(urls[s.name]!) ?? []), s]);
  const restored: string[] = [];
  for (const [url, subgraphs] of byDatabase) {
    await restoreAtomically(
      url,
      subgraphs.map((s) => join(dir, `${s.name}.dump`)),
      force ? subgraphs.map((s) => dropSchemaSql(s.schema)) : [],
      subgraphs.map((s) => `comment on schema "${s.schema}" is '${restoreMark(manifest.id)}'`),
    );
    restored.push(...subgraphs.map((s) => s.name));
  }
  return { id: manifest.id, restored };
}
