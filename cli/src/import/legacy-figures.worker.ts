/** Worker entry of the verification's legacy side (legacy-figures.ts): computes it and posts it back. */
import { parentPort, workerData } from 'node:worker_threads';
import { computeLegacyFigures, type LegacyInput } from './legacy-figures.js';

const figures = computeLegacyFigures(workerData as LegacyInput);
const { ids, cents, units } = figures.perOrder;
parentPort!.postMessage(figures, [ids.buffer, cents.buffer, units.buffer]);
