/**
 * The import's worker threads (the verification's legacy side, a sync's ledger): each is its own entry
 * file beside the module that starts it, run from the sources (.ts, through tsx) or compiled output (.js).
 */
import { Worker } from 'node:worker_threads';

/** Starts `<name>.worker.ts` (or .js) of the folder of `moduleUrl`, with `data` as its workerData. */
export function startWorker(moduleUrl: string, name: string, data: unknown): Worker {
  return new Worker(new URL(`./${name}.worker${moduleUrl.endsWith('.ts') ? '.ts' : '.js'}`, moduleUrl), {
    workerData: data,
  });
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
