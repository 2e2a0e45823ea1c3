import { inKeyOrder, type Database } from '@stockgraph/db';
import type { Page } from '@stockgraph/graphql-kit';
import { and, asc, count, eq, ilike, inArray, lte, or, sql, type SQL } from 'drizzle-orm';
import type * as schema from './schema.js';
import { newId } from '@stockgraph/ids';
import { priceHistory, products, type NewProductRow, type PriceChangeRow, type ProductRow } from './schema.js';

export interface ProductFilter {
  search?: string | null;
  category?: string | null;
  lowStock?: boolean | null;
}

function escapeLike(term: string): string {
  return term.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The product catalogue: its reads, and its writes (each with its price history) inside the caller's transaction. */
export class ProductRepository {
  constructor(private readonly db: Database<typeof schema>) {}

  async insertProduct(row: NewProductRow, actorId: string | null): Promise<ProductRow | null> {
    const [created] = await this.db
      .insert(products)
      .values(row)
      .onConflictDoNothing({ target: products.sku })
      .returning();
    if (!created) return null;
    await this.db.insert(priceHistory).values({
      id: newId(),
      productId: created.id,
      unitPrice: created.unitPrice,
      costPrice: created.costPrice,
      changedBy: actorId,
    });
    return created;
  }

  async lockProduct(id: string): Promise<ProductRow | null> {
    const [row] = await this.db.select().from(products).where(eq(products.id, id)).for('update');
    return row ?? null;
  }

  async updateProduct(id: string, changes: Partial<NewProductRow>): Promise<ProductRow> {
    const [row] = await this.db
      .update(products)
      .set({ ...changes, updatedAt: new Date() })
      .where(eq(products.id, id))
      .returning();
    return row!;
  }

  async recordPrice(
    productId: string,
    unitPrice: string,
    costPrice: string | null,
    actorId: string | null,
  ): Promise<void> {
    await this.db.insert(priceHistory).values({ id: newId(), productId, unitPrice, costPrice, changedBy: actorId });
  }

  async findByIds(ids: readonly string[]): Promise<(ProductRow | null)[]> {
    const rows = await this.db
      .select()
      .from(products)
      .where(inArray(products.id, [...ids]));
    return inKeyOrder(ids, rows, (r) => r.id);
  }

  async findBySkus(skus: readonly string[]): Promise<(ProductRow | null)[]> {
    const rows = await this.db
      .select()
      .from(products)
      .where(inArray(products.sku, [...skus]));
    return inKeyOrder(skus, rows, (r) => r.sku);
  }

  private where(filter: ProductFilter): SQL | undefined {
    const term = filter.search?.trim();
    const pattern = term ? `%${escapeLike(term)}%` : undefined;
    return and(
      pattern ? or(ilike(products.name, pattern), ilike(products.sku, pattern)) : undefined,
      filter.category ? eq(products.category, filter.category) : undefined,
      filter.lowStock === true ? lte(products.available, products.reorderLevel) : undefined,
      filter.lowStock === false ? sql`${products.available} > ${products.reorderLevel}` : undefined,
    );
  }

  /** Sorted by SKU (unique), so the SKU is the cursor. */
  async list(filter: ProductFilter, page: Page): Promise<ProductRow[]> {
    return this.db
      .select()
      .from(products)
      .where(and(this.where(filter), page.after ? sql`${products.sku} > ${page.after[0]}` : undefined))
      .orderBy(asc(products.sku))
      .limit(page.limit + 1);
  }

  async count(filter: ProductFilter): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(products).where(this.where(filter));
    return Number(row?.n ?? 0);
  }

  /** Price changes of many products at once, oldest first, grouped in the order of `productIds`. */
  async priceHistoryOf(productIds: readonly string[]): Promise<PriceChangeRow[][]> {
    const rows = await this.db
      .select()
      .from(priceHistory)
      .where(inArray(priceHistory.productId, [...productIds]))
      .orderBy(asc(priceHistory.changedAt), asc(priceHistory.id));
    const groups = new Map<string, PriceChangeRow[]>(productIds.map((id) => [id, []]));
    for (const row of rows) groups.get(row.productId)?.push(row);
    return productIds.map((id) => groups.get(id) ?? []);
  }

  async isEmpty(): Promise<boolean> {
    return (await this.db.select({ id: products.id }).from(products).limit(1)).length === 0;
  }
}
