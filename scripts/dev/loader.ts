import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SubgraphService } from '@stockgraph/server';
import type { Load, SubgraphName } from '../launcher/stack.js';

register(new URL('./fresh-modules.mjs', import.meta.url));

/**
 * Loads a subgraph's code, the N-th time with fresh copies of its own files (see fresh-modules.mjs).
 * Each reload leaves the previous copies in memory: fine for a development session.
 */
export function freshLoader(root: string, name: SubgraphName, generation: number): Load {
  return async (entry) => {
    const url = pathToFileURL(join(root, entry.dir, 'src/app.ts'));
    if (entry.name === name) url.searchParams.set('dev', String(generation));
    const module = (await import(url.href)) as { service: SubgraphService };
    return module.service;
  };
}
