import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { SupergraphSdlHook } from '@apollo/gateway';
import type { Logger } from '@stockgraph/logger';

/**
 * @apollo/gateway refuses `@link(..., for: SECURITY)` features it does not implement (authenticated,
 * requiresScopes, policy). Our authorization plugin enforces them, so the gateway gets the file with
 * that purpose dropped; the directives stay on the fields, where the plugin reads them.
 */
export function forGateway(supergraphSdl: string): string {
  return supergraphSdl.replace(
    /(@link\(url: "https:\/\/specs\.apollo\.dev\/(?:authenticated|requiresScopes|policy)\/v[\d.]+"), for: SECURITY\)/g,
    '$1)',
  );
}

/**
 * Serves the static supergraph file; with `watchFile`, a changed file is loaded without a restart.
 * The gateway validates the new SDL itself and keeps the old schema if the new one is broken.
 */
export function supergraphFromFile(path: string, watchFile: boolean, logger: Logger): SupergraphSdlHook {
  return async ({ update }) => {
    const initial = await readFile(path, 'utf8');
    const supergraphSdl = forGateway(initial);
    if (!watchFile) return { supergraphSdl };
    let last = initial;
    let timer: NodeJS.Timeout | undefined;
    // Never rejects: a broken or half-written file is logged and the previous schema kept.
    const reload = async () => {
      try {
        const next = await readFile(path, 'utf8');
        if (next === last || next.trim() === '') return;
        update(forGateway(next));
        last = next;
        logger.info({ path }, 'supergraph reloaded');
      } catch (error) {
        logger.error({ err: error, path }, 'supergraph reload failed; keeping the previous schema');
      }
    };
    const watcher = watch(path, () => {
      // Editors write in several steps; wait for the file to settle.
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), 200);
    });
    return {
      supergraphSdl,
      cleanup: async () => {
        clearTimeout(timer);
        watcher.close();
      },
    };
  };
}
