/**
 * What `pnpm dev` does with the subgraph SDLs: compose them in process (as `pnpm compose` does), write
 * the supergraph the gateway watches, regenerate one subgraph's resolver types, and compare with the
 * main branch (as `pnpm schema:check --base main` does) to warn about client impact.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { compose, formatProblems, readSources } from '../../schema/composition.js';
import { checkSchema, SUPERGRAPH_FILE } from '../../schema/schema-check.js';
import { subgraphs } from '../../schema/subgraphs.js';
import codegenConfig from '../../codegen.js';

export type Composed = { ok: true; sdl: string } | { ok: false; report: string };

/** Composes the working tree's SDLs into the supergraph text `pnpm compose` would write. */
export function composeWorkingTree(root: string): Composed {
  const result = compose(readSources(root, subgraphs));
  if (!result.ok) return { ok: false, report: formatProblems('Composition failed', result.errors) };
  return { ok: true, sdl: `${result.supergraphSdl.trimEnd()}\n` };
}

/** Writes schema/supergraph.graphql (the file the gateway watches) when it differs; true if it did. */
export function writeSupergraph(root: string, sdl: string): boolean {
  const target = join(root, SUPERGRAPH_FILE);
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // No file yet: write it.
  }
  if (current === sdl) return false;
  writeFileSync(target, sdl);
  return true;
}

/** `pnpm codegen` for one subgraph: its resolver types follow its SDL. */
export async function regenerateTypes(root: string, name: string): Promise<void> {
  const key = `subgraphs/${name}/src/generated/resolvers.ts`;
  const entry = (codegenConfig.generates as Record<string, unknown>)[key];
  if (!entry) return;
  await generate({ ...codegenConfig, cwd: root, silent: true, generates: { [key]: entry } }, true);
}

/** Breaking changes against `base`, as lines to print; empty when there are none. */
export async function breakingChanges(root: string, base: string): Promise<string[]> {
  const report = await checkSchema({ root, base });
  const breaking = report.changes.filter((c) => c.level === 'breaking' && !c.acknowledged);
  const operations = report.operations.filter((o) => o.errors.length > 0);
  return [
    ...breaking.map(
      (c) =>
        `  ⚠ ${c.schema}: ${c.message}${c.operations.length ? ` (used by ${c.operations.map((o) => o.name).join(', ')})` : ''}`,
    ),
    ...operations.map((o) => `  ⚠ operation ${o.name} (${o.file}) no longer validates: ${o.errors[0]?.message ?? ''}`),
  ];
}
