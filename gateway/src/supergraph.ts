import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { SupergraphSdlHook } from '@apollo/gateway';
import type { Logger } from '@stockgraph/logger';

/**
 * Serves the static supergraph file; with `watchFile`, a changed file is loaded without a restart.
 * The gateway validates the new SDL itself and keeps the old schema if the new one is broken.
 */
export function supergraphFromFile(path: string, watchFile: boolean, logger: Logger): SupergraphSdlHook {
  return async ({ update }) => {
    const supergraphSdl = await readFile(path, 'utf8');
    if (!watchFile) return { supergraphSdl };
    let last = supergraphSdl;
    let timer: NodeJS.Timeout | undefined;
    const watcher = watch(path, () => {
      // Editors write in several steps; wait for the file to settle.
      clearTimeout(timer);
      timer = setTimeout(async () => {
        try {
          const next = await readFile(path, 'utf8');
          if (next === last || next.trim() === '') return;
          update(next);
          last = next;
          logger.info({ path }, 'supergraph reloaded');
        } catch (error) {
          logger.error({ err: error, path }, 'supergraph reload failed; keeping the previous schema');
        }
      }, 200);
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
