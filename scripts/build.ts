/**
 * `pnpm build`: compiles every runnable workspace package to plain JavaScript with esbuild.
 *
 * Which packages: every workspace package whose scripts run a TypeScript file of its own with tsx, or whose
 * `bin` names a TypeScript file; nothing here lists them, so a new service or tool is built once it
 * has such a script. Each entry becomes one ESM bundle holding the workspace's own code
 * (`@stockgraph/*`), while npm dependencies stay external and come from the package's `dependencies`
 * (so `pnpm deploy --prod` installs exactly those).
 *
 * `dist/` mirrors the repository layout: the entry `gateway/src/server.ts` becomes
 * `gateway/dist/gateway/src/server.js`. Files the code reads at run time through
 * `new URL('<literal>', import.meta.url)` (SDLs, migrations, the supergraph, the persisted-operation
 * manifest) are found in the sources and copied to the same mirrored place, and every bundled
 * module's `import.meta.url` is rewritten to its mirrored location, so those paths keep working
 * unchanged in the bundle and in a pruned copy that holds only `dist/`. A worker thread's file found
 * that way (`new URL('./x.worker.ts', import.meta.url)`) is not copied but bundled as an entry of its
 * own, to `x.worker.js` in its mirrored place (cli/src/import/worker.ts starts that one).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBuiltin, packageName, workspacePlugin } from '@stockgraph/bundle/plugin';
import { build, type Metafile, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ASSET_URL = /new URL\(\s*(['"])([^'"]+)\1\s*,\s*import\.meta\.url\s*\)/g;
const WORKER_FILE = /\.worker\.ts$/;

interface WorkspacePackage {
  name: string;
  dir: string;
  manifest: {
    scripts?: Record<string, string>;
    bin?: string | Record<string, string>;
    dependencies?: Record<string, string>;
  };
}

export interface BuiltPackage {
  name: string;
  dir: string;
  /** Each entry's bundle, relative to the package directory. */
  outputs: { entry: string; output: string }[];
  assets: string[];
}

export function workspacePackages(): WorkspacePackage[] {
  const listed = JSON.parse(
    execFileSync('pnpm', ['ls', '--recursive', '--depth', '-1', '--json'], { cwd: ROOT, encoding: 'utf8' }),
  ) as { name: string; path: string }[];
  return listed
    .filter((p) => path.resolve(p.path) !== path.resolve(ROOT))
    .map((p) => ({
      name: p.name,
      dir: p.path,
      manifest: JSON.parse(readFileSync(path.join(p.path, 'package.json'), 'utf8')),
    }));
}

/**
 * The TypeScript files a package runs: those its own scripts hand to tsx (`dev`, one-off tools such as
 * the users service's `create-admin`) and TypeScript `bin` files; files outside the package (the
 * repository's tools, this build) are not its to ship.
 */
export function entriesOf(pkg: WorkspacePackage): string[] {
  const files: string[] = [];
  for (const command of Object.values(pkg.manifest.scripts ?? {})) {
    const match = command.match(/\btsx\s+(?:watch\s+)?(?:--\S+\s+)*(\S+\.ts)\b/);
    if (match) files.push(match[1]!);
  }
  const bin = pkg.manifest.bin;
  files.push(...(typeof bin === 'string' ? [bin] : Object.values(bin ?? {})).filter((f) => f.endsWith('.ts')));
  const inside = files.map((f) => path.normalize(f)).filter((f) => !f.startsWith('..') && !path.isAbsolute(f));
  return [...new Set(inside)];
}

/** Where a repository file lives inside a package's dist/. */
function mirrored(pkgDir: string, file: string): string {
  const relative = path.relative(ROOT, file);
  if (relative.startsWith('..')) throw new Error(`${file} is outside the repository`);
  return path.join(pkgDir, 'dist', relative);
}

/**
 * npm packages stay outside, imported by name: `pnpm deploy` installs the package's dependencies. Each
 * module's `import.meta.url` becomes its mirrored place, and the files it reads through it are collected.
 */
function mirrorPlugin(pkgDir: string, outFile: string, assets: Set<string>, workers: Set<string>): Plugin {
  return workspacePlugin({
    name: 'stockgraph-mirror',
    npmPackage: () => 'external',
    importMetaUrl(file, source) {
      for (const match of source.matchAll(ASSET_URL)) {
        const asset = path.resolve(path.dirname(file), match[2]!);
        if (!existsSync(asset)) throw new Error(`${path.relative(ROOT, file)} reads ${match[2]}, which does not exist`);
        (WORKER_FILE.test(asset) ? workers : assets).add(asset);
      }
      const here = path.relative(path.dirname(outFile), mirrored(pkgDir, file)).split(path.sep).join('/');
      // The entry's own bundle is its mirrored place already.
      if (here === path.basename(outFile, '.js') + '.ts') return undefined;
      return `new URL(${JSON.stringify(here)}, import.meta.url).href`;
    },
  });
}

/** The npm packages a bundle imports: each must be a dependency, or a pruned deployment would lack it. */
function importedPackages(metafile: Metafile): Set<string> {
  const imported = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const i of output.imports) if (i.external && !isBuiltin(i.path)) imported.add(packageName(i.path));
  }
  return imported;
}

/**
 * Dependencies no bundle of the package imports: installed into every image for nothing. Workspace
 * packages are inlined by the bundler, and `tsx` runs a source checkout's entry points (bin files).
 */
function unusedDependencies(pkg: WorkspacePackage, imported: Set<string>): string[] {
  return Object.keys(pkg.manifest.dependencies ?? {})
    .filter((name) => !imported.has(name) && !name.startsWith('@stockgraph/') && name !== 'tsx')
    .sort();
}

export async function buildPackage(pkg: WorkspacePackage): Promise<BuiltPackage> {
  rmSync(path.join(pkg.dir, 'dist'), { recursive: true, force: true });
  const outputs: BuiltPackage['outputs'] = [];
  const assets = new Set<string>();
  const workers = new Set<string>();
  const everyImport = new Set<string>();
  const entries = entriesOf(pkg).map((entry) => path.resolve(pkg.dir, entry));
  // Worker files join the list as the entries that name them are bundled.
  for (let i = 0; i < entries.length; i++) {
    const entryFile = entries[i]!;
    const entry = path.relative(pkg.dir, entryFile);
    const outFile = mirrored(pkg.dir, entryFile).replace(/\.ts$/, '.js');
    const result = await build({
      entryPoints: [entryFile],
      outfile: outFile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'warning',
      plugins: [mirrorPlugin(pkg.dir, outFile, assets, workers)],
    });
    const imported = importedPackages(result.metafile);
    for (const name of imported) everyImport.add(name);
    const missing = [...imported].filter((name) => !pkg.manifest.dependencies?.[name]).sort();
    if (missing.length > 0) {
      throw new Error(
        `${pkg.name}: ${entry} imports ${missing.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not in its ` +
          'package.json dependencies (a pruned production install would leave them out)',
      );
    }
    outputs.push({ entry, output: path.relative(pkg.dir, outFile) });
    for (const worker of workers) if (!entries.includes(worker)) entries.push(worker);
  }
  const unused = unusedDependencies(pkg, everyImport);
  if (unused.length > 0) {
    throw new Error(
      `${pkg.name}: ${unused.join(', ')} ${unused.length > 1 ? 'are dependencies' : 'is a dependency'} that no ` +
        'entry point imports (remove it, or make it a devDependency)',
    );
  }
  for (const asset of assets) cpSync(asset, mirrored(pkg.dir, asset), { recursive: true });
  return { name: pkg.name, dir: pkg.dir, outputs, assets: [...assets].map((a) => path.relative(ROOT, a)) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  // `--list`: what infra/docker/build-service.sh deploys, one `name<TAB>directory` per line.
  const list = args.includes('--list');
  const only = args.filter((a) => a !== '--list');
  const packages = workspacePackages().filter(
    (p) => entriesOf(p).length > 0 && (only.length === 0 || only.includes(p.name)),
  );
  if (list) for (const pkg of packages) process.stdout.write(`${pkg.name}\t${path.relative(ROOT, pkg.dir)}\n`);
  for (const pkg of list ? [] : packages) {
    const started = Date.now();
    const built = await buildPackage(pkg);
    const list = built.outputs.map((o) => o.output).join(', ');
    process.stdout.write(`${pkg.name}: ${list} (+${built.assets.length} assets) in ${Date.now() - started} ms\n`);
  }
}
