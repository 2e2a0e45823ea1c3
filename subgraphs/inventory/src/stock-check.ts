/**
 * `pnpm stock:check` (also `pnpm stockgraph stock check`): proves the stock columns equal the sums of
 * the append-only ledger; exits 1 and names each product that differs. `--rebuild` rewrites the
 * columns from the ledger first. Reads INVENTORY_DATABASE_URL, else DATABASE_URL.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { exitOnConfigError, parseEnv, postgresUrl } from '@stockgraph/config';
import { openDatabase, type Database } from '@stockgraph/db';
import { createLogger } from '@stockgraph/logger';
import * as schema from './db/schema.js';
import { StockRepository, type LedgerMismatch } from './db/stock.repository.js';

export interface StockCheckResult {
  /** Products whose columns were rewritten from the ledger (only with `rebuild`). */
  rebuilt: number;
  mismatches: LedgerMismatch[];
}

/** Products whose stock columns differ from their ledger's sums, read through `db` (an inventory database). */
export function ledgerMismatchesIn(db: Database<Record<string, unknown>>): Promise<LedgerMismatch[]> {
  return new StockRepository(db as Database<typeof schema>).ledgerMismatches();
}

/** Compares (and with `rebuild` first rewrites) the stock columns against the ledger. */
export async function checkStock(
  options: { rebuild?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<StockCheckResult> {
  const env = parseEnv(
    'stock:check',
    { INVENTORY_DATABASE_URL: postgresUrl.optional(), DATABASE_URL: postgresUrl },
    options.env,
  );
  const handle = await openDatabase({
    url: env.INVENTORY_DATABASE_URL ?? env.DATABASE_URL,
    schema,
    logger: createLogger('stock-check', 'warn'),
    poolMax: 1,
  });
  try {
    const stock = new StockRepository(handle.db);
    let rebuilt = 0;
    if (options.rebuild) {
      rebuilt = await handle.db.transaction((tx) => new StockRepository(tx).rebuildFromLedger());
    }
    return { rebuilt, mismatches: await stock.ledgerMismatches() };
  } finally {
    await handle.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const { values } = parseArgs({ options: { rebuild: { type: 'boolean', default: false } }, strict: true });
    const { rebuilt, mismatches } = await checkStock({ rebuild: values.rebuild });
    if (values.rebuild) process.stdout.write(`Rebuilt the stock of ${rebuilt} product(s) from the ledger.\n`);
    if (mismatches.length > 0) {
      process.stderr.write(`Stock disagrees with the ledger for ${mismatches.length} product(s):\n`);
      for (const m of mismatches) {
        process.stderr.write(
          `  ${m.sku} (${m.productId}): on hand ${m.onHand} vs ledger ${m.ledgerOnHand}, reserved ${m.reserved} vs ledger ${m.ledgerReserved}\n`,
        );
      }
      process.exitCode = 1;
    } else {
      process.stdout.write('Stock agrees with the ledger for every product.\n');
    }
  } catch (error) {
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`stock:check: ${error.message}\n`);
      process.exit(2);
    }
    exitOnConfigError(error);
  }
}
