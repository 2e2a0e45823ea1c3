/**
 * The import's worker threads (the verification's legacy side, a sync's ledger): each is its own entry
 * file beside the module that starts it, run from the sources (.ts, through tsx) or from the build,
 * which compiles every `<name>.worker.ts` named by a URL relative to `import.meta.url` to `<name>.worker.js`
 * in the same mirrored place (scripts/build.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** Starts the worker file `url` names (its compiled .js where the .ts is not there), with `data` as its workerData. */
export function startWorker(url: URL, data: unknown): Worker {
  const file = existsSync(fileURLToPath(url)) ? url : new URL(url.href.replace(/\.ts$/, '.js'));
  return new Worker(file, { workerData: data });
}

/** The first message the worker posts; its error, or its exit before posting, rejects with `what` stopped. */
export function firstMessage<T>(worker: Worker, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let settled = false;
    worker.once('message', (message: T) => {
      settled = true;
      resolve(message);
    });
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`${what} stopped (exit ${code})`));
    });
  });
}
