/**
 * The esbuild plugin both of Stockgraph's bundles use: the launcher's (index.mjs, run from the
 * checkout) and `pnpm build`'s (scripts/build.ts, shipped by `pnpm deploy`). Our `@stockgraph/*`
 * packages are always bundled and Node's built-in modules never are; which npm packages stay outside
 * is each bundle's own policy. Every TypeScript module's `import.meta.url` is replaced by an
 * expression the bundle chooses, so files read next to the code (SDLs, migrations, the supergraph)
 * are found from inside a bundle. Plain JavaScript: the launcher runs it before anything can compile
 * TypeScript.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { pathToFileURL } from 'node:url';

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** The npm package an import names: `@scope/name` or `name`, without a subpath. */
export const packageName = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/** @param {string} specifier */
export const isBuiltin = (specifier) => builtins.has(specifier);

/**
 * @param {import('./plugin.d.mts').WorkspacePluginOptions} options
 * @returns {import('esbuild').Plugin}
 */
export function workspacePlugin({ name, npmPackage, importMetaUrl }) {
  return {
    name,
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'resolving' || args.path.startsWith('@stockgraph/')) return undefined;
        if (builtins.has(args.path)) return { path: args.path, external: true };
        const where = npmPackage(packageName(args.path));
        if (where === 'bundle') return undefined;
        if (where === 'external') return { path: args.path, external: true };
        // By the path it resolves to here: nothing is installed beside the bundle.
        const resolved = await b.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'resolving',
        });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        // require() takes a path, import a URL (a Windows path would not be one).
        const path = args.kind === 'require-call' ? resolved.path : pathToFileURL(resolved.path).href;
        return { path, external: true };
      });
      b.onLoad({ filter: /\.[cm]?ts$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        const url = source.includes('import.meta.url') ? importMetaUrl(args.path, source) : undefined;
        return { contents: url === undefined ? source : source.replaceAll('import.meta.url', url), loader: 'ts' };
      });
    },
  };
}
