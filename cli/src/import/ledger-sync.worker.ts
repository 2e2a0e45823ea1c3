/** Worker entry of a sync's ledger (ledger-sync.ts): plans and compares the log rows, posts the result back. */
import { parentPort, workerData } from 'node:worker_threads';
import { runLedgerSync, type LedgerSyncInput } from './ledger-sync.js';

await runLedgerSync(workerData as LedgerSyncInput, parentPort!);
