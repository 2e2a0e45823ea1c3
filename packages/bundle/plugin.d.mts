import type { Plugin } from 'esbuild';

export interface WorkspacePluginOptions {
  /** The plugin's name in esbuild's messages. */
  name: string;
  /**
   * Where an npm package goes: into the bundle (`bundle`), or outside it, imported by its name
   * (`external`: the deployment installs it) or by the path it resolves to here (`external-by-path`:
   * nothing is installed beside the bundle).
   */
  npmPackage(packageName: string): 'bundle' | 'external' | 'external-by-path';
  /**
   * The expression that stands for `import.meta.url` in the TypeScript module `file` (whose text is
   * `source`, and names it), or undefined to leave it as it is.
   */
  importMetaUrl(file: string, source: string): string | undefined;
}

/** `@stockgraph/*` bundled, Node's built-ins outside, npm packages as `npmPackage` says, `import.meta.url` rewritten. */
export function workspacePlugin(options: WorkspacePluginOptions): Plugin;

/** The npm package an import names: `@scope/name` or `name`, without a subpath. */
export function packageName(specifier: string): string;

/** Whether an import names one of Node's built-in modules (`fs`, `node:fs`). */
export function isBuiltin(specifier: string): boolean;
