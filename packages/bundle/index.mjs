/**
 * Runs a TypeScript entry point (`pnpm start`, the services the tests start) from one esbuild bundle
 * instead of through tsx. Measured on this machine, a first start spent about a third of its time
 * loading modules through tsx's loader hooks (a worker thread asked about every import) and
 * transpiling file by file; one bundle of the workspace's code starts in a fraction of that, and
 * bundling the npm packages as well (see KEEP_OUTSIDE) took a warm start's module loading from about
 * 2 s to 0.4 s under the same load.
 *
 * Bundles live under node_modules/.cache (never committed). `pnpm install` builds `pnpm start`'s (the
 * root's `prepare`: `node packages/bundle/index.mjs scripts/start.ts`), and each is rebuilt when any
 * file it was built from is newer than it, so editing the code and starting again just works.
 * Plain JavaScript on purpose: it runs before anything can compile TypeScript.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';
import { build } from 'esbuild';
import { workspacePlugin } from './plugin.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT_DIR = join(ROOT, 'node_modules/.cache/stockgraph/launcher');

/**
 * npm packages are bundled too: loading them one file at a time (resolving each import, reading each
 * package.json for its module type, compiling file by file) was most of a warm start. These stay
 * outside, loaded by Node from their resolved path (the bundle's folder has no node_modules beside it):
 * PGlite and argon2 read their WebAssembly, data and native files next to their own code, pino starts
 * worker threads from its files, pino-pretty and the tracing exporters load only when asked for
 * (LOG_FORMAT=pretty, an OTLP endpoint), the tracing SDK's CommonJS exports do not survive esbuild's
 * dynamic-import wrapping, and the tracing API must be the one copy the SDK registers with (with a
 * bundled copy of its own, no span reached the collector). Hive's router runtime (the gateway bench only)
 * loads its native query planner from a package beside its own.
 */
const KEEP_OUTSIDE = new Set([
  '@electric-sql/pglite',
  '@node-rs/argon2',
  'pino',
  'pino-pretty',
  'thread-stream',
  'esbuild',
  'tsx',
  '@opentelemetry/api',
  '@opentelemetry/sdk-trace-node',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/resources',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/exporter-trace-otlp-proto',
  '@graphql-hive/router-runtime',
]);

/** Every module's `import.meta.url` stays its source file's, so files read next to the code are found where they are. */
const workspaceBundle = workspacePlugin({
  name: 'stockgraph-launcher',
  npmPackage: (name) => (KEEP_OUTSIDE.has(name) ? 'external-by-path' : 'bundle'),
  importMetaUrl: (file) => JSON.stringify(pathToFileURL(file).href),
});

/**
 * Whether the bundle was built here (it holds absolute paths: a moved or copied checkout rebuilds) and
 * after every file it came from, and after the lockfile (it names npm packages by their path in the store).
 */
function upToDate(outFile, inputsFile) {
  if (!existsSync(outFile) || !existsSync(inputsFile)) return false;
  const built = statSync(outFile).mtimeMs;
  const { root, files } = JSON.parse(readFileSync(inputsFile, 'utf8'));
  return root === ROOT && files.every((file) => existsSync(file) && statSync(file).mtimeMs <= built);
}

/** The bundle of `entry` (a path from the repository root), built first when missing or stale. */
export async function bundled(entry) {
  const name = entry.replace(/[^a-z0-9]+/gi, '-').replace(/-ts$/, '');
  const dir = join(OUT_DIR, name);
  const outFile = join(dir, 'main.mjs');
  const inputsFile = join(dir, 'inputs.json');
  if (upToDate(outFile, inputsFile)) return outFile;
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { main: join(ROOT, entry) },
    outdir: dir,
    write: false,
    bundle: true,
    // Modules the entry imports dynamically become chunks of their own, so their npm packages load
    // when they are asked for: `pnpm start` compiles PGlite's WebAssembly while the services load.
    splitting: true,
    outExtension: { '.js': '.mjs' },
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // The conditions Node itself resolves with, so a package loads as the same file it would without the bundle.
    conditions: ['node'],
    sourcemap: 'linked',
    // CommonJS packages inside an ES module bundle still call require() for Node's built-in modules.
    banner: {
      js: "import { createRequire as __sgRequire } from 'node:module'; const require = __sgRequire(import.meta.url);",
    },
    metafile: true,
    logLevel: 'warning',
    plugins: [workspaceBundle],
  });
  // The bundler's own files too: a change of what stays outside rebuilds every bundle.
  const files = [
    ...Object.keys(result.metafile.inputs),
    'pnpm-lock.yaml',
    'packages/bundle/index.mjs',
    'packages/bundle/plugin.mjs',
  ].map((file) => join(ROOT, file));
  // Written aside and moved into place: test workers build the same bundle at once, and none may
  // read half of one. Whoever moves theirs last wins; the bundles are the same.
  const aside = `${dir}.${process.pid}.partial`;
  rmSync(aside, { recursive: true, force: true });
  for (const file of result.outputFiles) {
    const target = join(aside, file.path.slice(dir.length));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.contents);
  }
  writeFileSync(join(aside, 'inputs.json'), JSON.stringify({ root: ROOT, files }));
  const old = `${dir}.${process.pid}.old`;
  if (existsSync(dir)) renameSync(dir, old);
  try {
    renameSync(aside, dir);
  } catch (error) {
    // Another process moved its bundle in between: use that one.
    if (!existsSync(outFile)) throw error;
    rmSync(aside, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
  return outFile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const entry of process.argv.slice(2)) {
    try {
      process.stdout.write(`Bundle up to date: ${await bundled(entry)}\n`);
    } catch (error) {
      // Never fails the install: the first start builds it instead.
      process.stderr.write(`Could not bundle ${entry} (the first start will): ${error.message}\n`);
    }
  }
}
