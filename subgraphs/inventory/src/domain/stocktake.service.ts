import type { Identity } from '@stockgraph/auth';
import { inventoryStream, publish } from '@stockgraph/contracts';
import type { Transact, Tx } from '@stockgraph/db';
import { BadUserInputError, CodedError, ConflictError, NotFoundError } from '@stockgraph/graphql-kit';
import { newId } from '@stockgraph/ids';
import { noCache, type CatalogueCache } from '../cache/catalogue-cache.js';
import type * as schema from '../db/schema.js';
import { outbox, type StocktakeRow } from '../db/schema.js';
import { StocktakeRepository, type StocktakeLineView } from '../db/stocktake.repository.js';
import { MAX_UNITS, text } from './product-input.js';
import { bookMovements } from './stock-ledger.js';

/** Ledger rows per statement when closing books its adjustments (PostgreSQL binds at most 65,535 parameters). */
const BOOKING_CHUNK = 1000;

/** The refusal a frozen product's reservation, receipt or adjustment gets: retry once the stocktake closes. */
export class StocktakeInProgressError extends CodedError {
  constructor(sku: string, stocktakeId: string) {
    super(`${sku} is being counted by stocktake ${stocktakeId}; try again once it closes`, 'STOCKTAKE_IN_PROGRESS', {
      stocktakeId,
      retryable: true,
    });
  }
}

/**
 * Stocktakes: opening freezes the products of a category (or all) and takes their on-hand stock from
 * the ledger in the same transaction; staff record counts while orders for other products go on;
 * closing books each counted product's difference as an ADJUSTMENT and lifts the freeze, in one
 * transaction. Every step announces the stocktake's progress on the inventory stream.
 */
export class StocktakeService {
  constructor(
    private readonly transact: Transact<typeof schema>,
    private readonly cache: CatalogueCache = noCache,
  ) {}

  private async announce(
    tx: Tx<typeof schema>,
    stocktake: Pick<StocktakeRow, 'id' | 'status'>,
    productId?: string,
  ): Promise<void> {
    const progress = (await new StocktakeRepository(tx).progress([stocktake.id])).get(stocktake.id);
    await publish(tx, outbox, inventoryStream, 'StocktakeProgressed', {
      stocktakeId: stocktake.id,
      status: stocktake.status,
      counted: progress?.counted ?? 0,
      total: progress?.total ?? 0,
      ...(productId ? { productId } : {}),
    });
  }

  async open(category: string | null | undefined, actor: Identity): Promise<StocktakeRow> {
    const scope = text(category, 'category', 100) ?? null;
    return this.transact(async (tx) => {
      const stocktakes = new StocktakeRepository(tx);
      await stocktakes.lockOpenings();
      const holder = await stocktakes.overlapping(scope);
      if (holder) {
        throw new CodedError(`Stocktake ${holder} already counts products of this scope: close it first`, 'CONFLICT', {
          stocktakeId: holder,
        });
      }
      const openedAt = new Date();
      const row = { id: newId(openedAt), category: scope, openedAt, openedBy: actor.userId };
      const total = await stocktakes.open(row);
      if (total === 0) throw new BadUserInputError(`No products in category ${scope}`, 'category');
      const opened = (await stocktakes.find(row.id))!;
      await this.announce(tx, opened);
      return opened;
    });
  }

  async recordCount(
    stocktakeId: string,
    productId: string,
    counted: number,
    actor: Identity,
  ): Promise<StocktakeLineView> {
    if (!Number.isInteger(counted) || counted < 0 || counted > MAX_UNITS)
      throw new BadUserInputError(`counted must be a whole number from 0 to ${MAX_UNITS}`, 'counted');
    return this.transact(async (tx) => {
      const stocktakes = new StocktakeRepository(tx);
      // Counts of one stocktake take turns (each holds its row for a few milliseconds): the progress each
      // announces then counts every count committed before it, and closing waits for those in flight.
      const stocktake = await stocktakes.find(stocktakeId, 'update');
      if (!stocktake) throw new NotFoundError('Stocktake', stocktakeId);
      if (stocktake.status !== 'OPEN') throw new ConflictError(`Stocktake ${stocktakeId} is closed`);
      const recorded = await stocktakes.recordCount(stocktakeId, productId, counted, actor.userId, new Date());
      if (recorded === 'absent')
        throw new BadUserInputError(`Product ${productId} is not part of stocktake ${stocktakeId}`, 'productId');
      if (recorded === 'changed') await this.announce(tx, stocktake, productId);
      const [line] = await stocktakes.lines(stocktake, { productId }, { limit: 1, after: null });
      return line!;
    });
  }

  async close(stocktakeId: string, actor: Identity): Promise<StocktakeRow> {
    const { closed, adjusted } = await this.transact(async (tx) => {
      const stocktakes = new StocktakeRepository(tx);
      const stocktake = await stocktakes.find(stocktakeId, 'update');
      if (!stocktake) throw new NotFoundError('Stocktake', stocktakeId);
      if (stocktake.status !== 'OPEN') throw new ConflictError(`Stocktake ${stocktakeId} is already closed`);
      const differences = (await stocktakes.settle(stocktake)).filter((d) => d.delta !== 0);
      const short = await stocktakes.applyDifferences(differences);
      if (short.length > 0) {
        throw new CodedError(
          `Counts below what confirmed orders hold reserved: ${short.map((s) => `${s.sku} (${s.onHand} on hand after the count, ${s.reserved} reserved)`).join(', ')}; recount, or cancel orders, then close`,
          'INSUFFICIENT_STOCK',
          { products: short },
        );
      }
      for (let at = 0; at < differences.length; at += BOOKING_CHUNK) {
        await bookMovements(
          tx,
          differences.slice(at, at + BOOKING_CHUNK).map((d) => ({
            productId: d.productId,
            delta: d.delta,
            reason: 'ADJUSTMENT' as const,
            note: `stocktake ${stocktakeId}`,
            actorId: actor.userId,
          })),
        );
      }
      const closed = await stocktakes.close(stocktakeId, actor.userId, new Date());
      await this.announce(tx, closed);
      return { closed, adjusted: differences.map((d) => d.productId) };
    });
    // Once committed and before answering: the writer's next read of these products is fresh.
    await this.cache.invalidate(adjusted);
    return closed;
  }
}
