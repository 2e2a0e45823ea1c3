import type { Identity } from '@stockgraph/auth';
import { inventoryStream, publish } from '@stockgraph/contracts';
import { once, type Transact, type Tx } from '@stockgraph/db';
import {
  BadUserInputError,
  CodedError,
  ConflictError,
  NotFoundError,
  parseIdempotencyKey,
} from '@stockgraph/graphql-kit';
import { newId } from '@stockgraph/ids';
import { noCache, type CatalogueCache } from '../cache/catalogue-cache.js';
import { ProductRepository } from '../db/product.repository.js';
import type * as schema from '../db/schema.js';
import { idempotencyKeys, outbox, type ProductRow } from '../db/schema.js';
import { StockRepository } from '../db/stock.repository.js';
import { bookMovements } from './stock-ledger.js';
import { StocktakeInProgressError } from './stocktake.service.js';
import { MAX_UNITS, money, text, units } from './product-input.js';

interface Repositories {
  products: ProductRepository;
  stock: StockRepository;
}

export interface ProductInput {
  sku?: string | null;
  name?: string | null;
  description?: string | null;
  category?: string | null;
  unitPrice?: string | null;
  costPrice?: string | null;
  reorderLevel?: number | null;
}

/**
 * The catalogue and stock writes. Each runs in one transaction that changes the product, appends the
 * ledger and queues the events other services rely on (prices for orders), or changes nothing.
 */
export class ProductService {
  constructor(
    private readonly transact: Transact<typeof schema>,
    private readonly cache: CatalogueCache = noCache,
  ) {}

  private write<T>(work: (repositories: Repositories, tx: Tx<typeof schema>) => Promise<T>): Promise<T> {
    return this.transact((tx) => work({ products: new ProductRepository(tx), stock: new StockRepository(tx) }, tx));
  }

  /**
   * Drops the product from the catalogue cache once its change is committed, before the mutation
   * answers, so the writer's next read is fresh; other processes' reads follow the event.
   */
  private async committed(product: ProductRow): Promise<ProductRow> {
    await this.cache.invalidate([product.id]);
    return product;
  }

  /**
   * A write that a client may retry: with an idempotency key, the first attempt's product comes back
   * and nothing is written again (a retried receipt must not receive the goods twice).
   */
  private writeOnce(
    actor: Identity,
    idempotencyKey: string | null | undefined,
    request: unknown,
    work: (repositories: Repositories, tx: Tx<typeof schema>) => Promise<ProductRow>,
  ): Promise<ProductRow> {
    if (idempotencyKey == null) return this.write(work);
    const key = parseIdempotencyKey(idempotencyKey);
    return this.write(async (repositories, tx) => {
      let created: ProductRow | null = null;
      const result = await once(tx, idempotencyKeys, { userId: actor.userId, key, request }, async () => {
        created = await work(repositories, tx);
        return created.id;
      });
      if (result.outcome === 'conflict')
        throw new ConflictError('idempotencyKey was already used for a different request');
      return created ?? (await repositories.products.lockProduct(result.id))!;
    });
  }

  async createProduct(input: ProductInput & { idempotencyKey?: string | null }, actor: Identity): Promise<ProductRow> {
    const sku = text(input.sku, 'sku', 64, true)!;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(sku))
      throw new BadUserInputError('sku may contain letters, digits, . _ - only', 'sku');
    const reorderLevel = input.reorderLevel ?? 10;
    if (!Number.isInteger(reorderLevel) || reorderLevel < 0 || reorderLevel > MAX_UNITS)
      throw new BadUserInputError('reorderLevel must be 0 or more', 'reorderLevel');
    const now = new Date();
    const row = {
      id: newId(now),
      sku,
      name: text(input.name, 'name', 200, true)!,
      description: text(input.description, 'description', 4000) ?? null,
      category: text(input.category, 'category', 100) ?? null,
      unitPrice: money(input.unitPrice, 'unitPrice')!,
      costPrice: money(input.costPrice, 'costPrice') ?? null,
      reorderLevel,
      createdAt: now,
      updatedAt: now,
    };
    const { id: _id, createdAt: _c, updatedAt: _u, ...request } = row;
    const created = await this.writeOnce(
      actor,
      input.idempotencyKey,
      { op: 'createProduct', ...request },
      async ({ products }, tx) => {
        const created = await products.insertProduct(row, actor.userId);
        if (!created) throw new ConflictError(`A product with SKU ${sku} already exists`);
        await publish(tx, outbox, inventoryStream, 'ProductCreated', {
          productId: created.id,
          sku: created.sku,
          unitPrice: created.unitPrice,
          priceSince: created.updatedAt.toISOString(),
        });
        return created;
      },
    );
    return this.committed(created);
  }

  async updateProduct(id: string, input: ProductInput, actor: Identity): Promise<ProductRow> {
    if (input.sku != null) throw new BadUserInputError('sku cannot change; create a new product instead', 'sku');
    const changes: Partial<ProductRow> = {};
    if (input.name !== undefined) changes.name = text(input.name, 'name', 200, true)!;
    if (input.description !== undefined) changes.description = text(input.description, 'description', 4000) ?? null;
    if (input.category !== undefined) changes.category = text(input.category, 'category', 100) ?? null;
    if (input.unitPrice !== undefined) {
      if (input.unitPrice === null) throw new BadUserInputError('unitPrice cannot be null', 'unitPrice');
      changes.unitPrice = money(input.unitPrice, 'unitPrice')!;
    }
    if (input.costPrice !== undefined) changes.costPrice = money(input.costPrice, 'costPrice') ?? null;
    if (input.reorderLevel != null) {
      if (!Number.isInteger(input.reorderLevel) || input.reorderLevel < 0)
        throw new BadUserInputError('reorderLevel must be 0 or more', 'reorderLevel');
      changes.reorderLevel = input.reorderLevel;
    }
    const updated = await this.write(async ({ products }, tx) => {
      const current = await products.lockProduct(id);
      if (!current) throw new NotFoundError('Product', id);
      const updated = await products.updateProduct(id, changes);
      const priceChanged = updated.unitPrice !== current.unitPrice || updated.costPrice !== current.costPrice;
      if (priceChanged) {
        await products.recordPrice(id, updated.unitPrice, updated.costPrice, actor.userId);
        await publish(tx, outbox, inventoryStream, 'ProductPriceChanged', {
          productId: id,
          unitPrice: updated.unitPrice,
          priceSince: updated.updatedAt.toISOString(),
        });
      }
      const { unitPrice: _p, costPrice: _c, ...otherChanges } = changes;
      if (Object.keys(otherChanges).length > 0)
        await publish(tx, outbox, inventoryStream, 'ProductUpdated', { productId: id });
      return updated;
    });
    return this.committed(updated);
  }

  async receiveStock(
    productId: string,
    quantity: number,
    note: string | null | undefined,
    actor: Identity,
    idempotencyKey?: string | null,
  ): Promise<ProductRow> {
    units(quantity, 'quantity');
    const cleanNote = text(note, 'note', 1000) ?? null;
    const received = await this.writeOnce(
      actor,
      idempotencyKey,
      { op: 'receiveStock', productId, quantity, note: cleanNote },
      async ({ products, stock }, tx) => {
        const updated = await stock.changeOnHand(productId, quantity);
        if (!updated) {
          const current = await products.lockProduct(productId);
          if (current?.stocktakeId) throw new StocktakeInProgressError(current.sku, current.stocktakeId);
          throw new NotFoundError('Product', productId);
        }
        await bookMovements(tx, [
          { productId, delta: quantity, reason: 'RECEIPT', note: cleanNote, actorId: actor.userId },
        ]);
        return updated;
      },
    );
    return this.committed(received);
  }

  /**
   * Manual corrections of on-hand stock; never below what confirmed orders have reserved, nor while a
   * stocktake counts the product.
   */
  async adjustStock(
    productId: string,
    delta: number,
    reason: string,
    note: string | null | undefined,
    actor: Identity,
    idempotencyKey?: string | null,
  ): Promise<ProductRow> {
    units(delta, 'delta', true);
    if (reason !== 'ADJUSTMENT' && reason !== 'RETURN') {
      throw new BadUserInputError(
        'reason must be ADJUSTMENT or RETURN; receipts, sales and reservations have their own operations',
        'reason',
      );
    }
    if (reason === 'RETURN' && delta < 0)
      throw new BadUserInputError('a RETURN adds stock: delta must be positive', 'delta');
    const cleanNote = text(note, 'note', 1000) ?? null;
    const adjusted = await this.writeOnce(
      actor,
      idempotencyKey,
      { op: 'adjustStock', productId, delta, reason, note: cleanNote },
      async ({ products, stock }, tx) => {
        const current = await products.lockProduct(productId);
        if (!current) throw new NotFoundError('Product', productId);
        if (current.stocktakeId) throw new StocktakeInProgressError(current.sku, current.stocktakeId);
        const updated = await stock.changeOnHand(productId, delta);
        if (!updated) {
          throw new CodedError(
            `Only ${current.onHand - current.reserved} unreserved units of ${current.sku} are on hand`,
            'INSUFFICIENT_STOCK',
            {
              products: [{ productId, sku: current.sku, available: current.available }],
            },
          );
        }
        await bookMovements(tx, [{ productId, delta, reason, note: cleanNote, actorId: actor.userId }]);
        return updated;
      },
    );
    return this.committed(adjusted);
  }
}
