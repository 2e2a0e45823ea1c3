/**
 * A migrated, seeded PGlite data directory, built once (at `pnpm install`, by the root's `prepare`
 * script) and copied into an empty PGLITE_DIR on first start: copying its ~100 MB takes a few hundred
 * milliseconds where initdb, the migrations and seeding the two years of demo history take well over
 * ten. It is kept as a plain directory rather than PGlite's gzipped dump: `loadDataDir` gunzips and
 * untars in JavaScript, which took 4–7 s here, against 0.4 s for the copy.
 *
 * The file is keyed by everything that decides its contents (each subgraph's src/db: migrations,
 * tables, repositories and seed; the demo-data package; the PGlite version); a stale key means the first start seeds as before.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUBGRAPHS } from '@stockgraph/registry';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Under node_modules: made by install, not committed, kept when `.data/` is deleted. */
export const TEMPLATE_DIR = join(ROOT, 'node_modules/.cache/stockgraph');
export const TEMPLATE_DATA_DIR = join(TEMPLATE_DIR, 'pglite-demo');
export const TEMPLATE_KEY_FILE = join(TEMPLATE_DIR, 'pglite-demo.key');

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .sort();
}

/** A hash of what the template's contents follow from. */
export function templateKey(): string {
  const hash = createHash('sha256');
  const inputs = [
    // Migrations, tables, repositories and seed of each subgraph.
    ...SUBGRAPHS.flatMap((entry) => filesUnder(join(ROOT, entry.dir, 'src/db'))),
    ...filesUnder(join(ROOT, 'packages/demo-data/src')),
    join(ROOT, 'node_modules/@electric-sql/pglite/package.json'),
  ];
  for (const path of inputs) {
    hash.update(relative(ROOT, path));
    hash.update(existsSync(path) ? readFileSync(path) : '');
  }
  return hash.digest('hex');
}

/** The template's data directory when it matches the working tree, else undefined. */
export function currentTemplate(): string | undefined {
  if (isFreshDataDir(TEMPLATE_DATA_DIR) || !existsSync(TEMPLATE_KEY_FILE)) return undefined;
  if (readFileSync(TEMPLATE_KEY_FILE, 'utf8').trim() !== templateKey()) return undefined;
  return TEMPLATE_DATA_DIR;
}

/** A data directory that PostgreSQL has not initialised yet. */
export function isFreshDataDir(dir: string): boolean {
  return !existsSync(join(dir, 'PG_VERSION'));
}
