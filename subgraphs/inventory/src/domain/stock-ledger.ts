import { inventoryStream, publishAll } from '@stockgraph/contracts';
import type { Tx } from '@stockgraph/db';
import type * as schema from '../db/schema.js';
import { outbox } from '../db/schema.js';
import { StockRepository, type LedgerRow } from '../db/stock.repository.js';

/**
 * Appends stock movements to the ledger and, in the same transaction, a StockChanged event for each
 * with the product's levels after it: live stock screens learn of every change, and of none that
 * rolled back.
 */
export async function bookMovements(tx: Tx<typeof schema>, rows: Parameters<StockRepository['ledger']>[0]) {
  const stock = new StockRepository(tx);
  const written: LedgerRow[] = await stock.ledger(rows);
  const levels = await stock.levels([...new Set(written.map((m) => m.productId))]);
  const events = written.flatMap((movement) => {
    const level = levels.get(movement.productId);
    if (!level) return [];
    return [
      {
        productId: movement.productId,
        movementId: movement.id,
        reason: movement.reason,
        delta: movement.delta,
        available: level.available,
        reorderLevel: level.reorderLevel,
      },
    ];
  });
  await publishAll(tx, outbox, inventoryStream, 'StockChanged', events);
}
