import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, misuse } from '../errors.js';

export const MANIFEST_FORMAT = 'stockgraph-backup/1';

export interface SubgraphEntry {
  name: string;
  schema: string;
  /** Migrations applied when the backup was taken; the newest one's journal time decides compatibility. */
  migrations: number;
  latestMigration: number | null;
  rowCounts: Record<string, number>;
}

export interface FileEntry {
  file: string;
  sha256: string;
  bytes: number;
}

export interface Manifest {
  format: string;
  id: string;
  createdAt: string;
  driver: 'postgres' | 'pglite';
  files: FileEntry[];
  subgraphs: SubgraphEntry[];
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function readManifest(dir: string): Manifest {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) throw misuse(`${dir}: not a backup (no manifest.json)`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch {
    throw new CliError(`${dir}: manifest.json is not valid JSON (the backup is damaged)`);
  }
  if (manifest.format !== MANIFEST_FORMAT)
    throw new CliError(`${dir}: unknown backup format ${JSON.stringify(manifest.format)}`);
  return manifest;
}

/**
 * Every file present with the size and SHA-256 the manifest recorded, every file the backup restores
 * (each subgraph's dump) among them, and no file the manifest does not list; otherwise names the first
 * bad one. A dump left out of `files` was never checksummed: swapped for another (a users table with a
 * rogue ADMIN), it would have been restored.
 */
export async function checkFiles(dir: string, manifest: Manifest): Promise<void> {
  const listed = new Set(manifest.files.map((f) => f.file));
  const restored = manifest.driver === 'postgres' ? manifest.subgraphs.map((s) => `${s.name}.dump`) : [];
  for (const file of restored)
    if (!listed.has(file)) throw new CliError(`backup ${manifest.id}: ${file} has no checksum in the manifest`);
  for (const file of readdirSync(dir))
    if (file !== 'manifest.json' && !listed.has(file))
      throw new CliError(`backup ${manifest.id}: ${file} is not part of it (the manifest does not list it)`);
  for (const entry of manifest.files) {
    const path = join(dir, entry.file);
    if (!existsSync(path)) throw new CliError(`backup ${manifest.id}: ${entry.file} is missing`);
    const actual = await sha256File(path);
    if (actual !== entry.sha256) {
      throw new CliError(
        `backup ${manifest.id}: ${entry.file} is corrupted (SHA-256 ${actual.slice(0, 12)}…, manifest says ${entry.sha256.slice(0, 12)}…)`,
      );
    }
  }
}

/** Complete backups in a directory, newest first (a backup is complete once its manifest exists). */
export function listBackupDirs(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.endsWith('.partial') && existsSync(join(root, d.name, 'manifest.json')))
    .map((d) => d.name)
    .sort()
    .reverse();
}
