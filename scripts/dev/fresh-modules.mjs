/**
 * Module hooks for `pnpm dev`. A subgraph reloaded after an edit is imported from its entry file with
 * `?dev=N`; every file of that subgraph's own source it reaches inherits the same mark, so Node loads
 * fresh copies of exactly those files while the packages and dependencies stay loaded once (re-importing
 * them all, as a fresh namespace would, costs seconds per reload).
 */
import { URL } from 'node:url';

const SUBGRAPH_SOURCE = /\/subgraphs\/([^/]+)\/src\//;

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  const parent = context.parentURL ? new URL(context.parentURL) : undefined;
  const generation = parent?.searchParams.get('dev');
  if (!generation || !result.url.startsWith('file:')) return result;
  const from = SUBGRAPH_SOURCE.exec(parent.pathname)?.[1];
  const to = SUBGRAPH_SOURCE.exec(new URL(result.url).pathname)?.[1];
  if (!from || from !== to) return result;
  const url = new URL(result.url);
  url.searchParams.set('dev', generation);
  return { ...result, url: url.href };
}
