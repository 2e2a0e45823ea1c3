/**
 * Loads each subgraph of the registry through its package's `service` export. The import is by path
 * with the name in it, not by package name: esbuild bundles every file such a pattern can match
 * (`subgraphs/<name>/src/app.ts`), so `pnpm start`'s bundle holds the subgraphs without a list of
 * them here, and tsx runs the same line unbundled. The registry's test holds every entry to that
 * folder layout.
 */
import { SUBGRAPHS, type SubgraphEntry } from '@stockgraph/registry';
import type { SubgraphService } from '@stockgraph/server';

export async function loadSubgraphService(entry: Pick<SubgraphEntry, 'name'>): Promise<SubgraphService> {
  const module = (await import(`../../subgraphs/${entry.name}/src/app.ts`)) as { service?: SubgraphService };
  if (!module.service) throw new Error(`subgraphs/${entry.name}/src/app.ts exports no \`service\``);
  return module.service;
}

/** Every subgraph's service, in the registry's order. */
export function loadSubgraphServices(): Promise<SubgraphService[]> {
  return Promise.all(SUBGRAPHS.map(loadSubgraphService));
}
