import { rowsOf, textArray, type Database } from '@stockgraph/db';
import type { Page } from '@stockgraph/graphql-kit';
import { and, count, desc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type * as schema from './schema.js';
import { products, stocktakeLines, stocktakes, type StocktakeLineRow, type StocktakeRow } from './schema.js';

/** How far a stocktake has got: products counted of those it holds. */
export interface StocktakeProgress {
  counted: number;
  total: number;
}

/** A line with what the ledger expects on the shelf when it was counted. */
export interface StocktakeLineView extends StocktakeLineRow {
  /**
   * On hand at opening plus what left or came back since, up to the count (only fulfilments of orders
   * reserved before the freeze move frozen stock): what the shelf should have held when counted.
   * Null while the product is not counted.
   */
  expected: number | null;
}

/** A product a count would leave below what confirmed orders still hold reserved. */
export interface ShortCount {
  productId: string;
  sku: string;
  /** On hand once the count's difference is applied. */
  onHand: number;
  reserved: number;
}

const ON_HAND_REASONS = sql`('RECEIPT', 'SALE', 'ADJUSTMENT', 'RETURN')`;

/**
 * What the shelf should have held at each counted line's count: on hand at opening plus the on-hand
 * movements booked after opening and up to the count, for a query of stocktake_lines aliased `l`.
 */
const expectedOf = (openedAt: Date) => sql`
  case when l.counted is null then null else l.on_hand_at_open + coalesce((
    select sum(m.delta) from inventory.stock_movements m
    where m.product_id = l.product_id and m.created_at > ${openedAt.toISOString()}::timestamptz
      and m.created_at <= l.counted_at and m.reason in ${ON_HAND_REASONS}), 0)::int end`;

/** Stocktakes, their lines, and the freeze they put on their products' rows. */
export class StocktakeRepository {
  constructor(private readonly db: Database<typeof schema>) {}

  /**
   * Opening takes this transaction-scoped lock first: two stocktakes opening at once over overlapping
   * products would otherwise each see the other's products as free.
   */
  async lockOpenings(): Promise<void> {
    await this.db.execute(sql`select pg_advisory_xact_lock(hashtextextended('inventory:stocktakes', 0))`);
  }

  /** An open stocktake already holding a product of this scope (null category: any product). */
  async overlapping(category: string | null): Promise<string | null> {
    const [row] = await this.db
      .select({ stocktakeId: products.stocktakeId })
      .from(products)
      .where(and(isNotNull(products.stocktakeId), category === null ? undefined : eq(products.category, category)))
      .limit(1);
    return row?.stocktakeId ?? null;
  }

  /**
   * Creates the stocktake and freezes its products: each product row is updated (so a reservation or
   * adjustment holding its lock finishes first, and every later one sees the freeze), and its on-hand
   * stock at this moment becomes the line's `onHandAtOpen`. Returns how many products it holds.
   */
  async open(row: { id: string; category: string | null; openedAt: Date; openedBy: string }): Promise<number> {
    await this.db.insert(stocktakes).values({ ...row, status: 'OPEN' });
    const inScope = row.category === null ? sql`true` : sql`p.category = ${row.category}`;
    const [result] = rowsOf<{ total: number }>(
      await this.db.execute(sql`
        with frozen as (
          update inventory.products p set stocktake_id = ${row.id}::uuid
          where ${inScope}
          returning p.id, p.sku, p.on_hand
        ), lines as (
          insert into inventory.stocktake_lines (stocktake_id, product_id, sku, on_hand_at_open)
          select ${row.id}::uuid, id, sku, on_hand from frozen
          returning 1
        )
        select count(*)::int as total from lines`),
    );
    return result?.total ?? 0;
  }

  async find(id: string, lock?: 'update'): Promise<StocktakeRow | null> {
    const query = this.db.select().from(stocktakes).where(eq(stocktakes.id, id));
    const [row] = lock ? await query.for(lock) : await query;
    return row ?? null;
  }

  async findByIds(ids: readonly string[]): Promise<(StocktakeRow | null)[]> {
    const rows = await this.db
      .select()
      .from(stocktakes)
      .where(inArray(stocktakes.id, [...ids]));
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Newest first; the id (UUIDv7, from the opening moment) is the cursor. */
  async list(status: StocktakeRow['status'] | null, page: Page): Promise<StocktakeRow[]> {
    return this.db
      .select()
      .from(stocktakes)
      .where(
        and(
          status ? eq(stocktakes.status, status) : undefined,
          page.after ? sql`${stocktakes.id} < ${page.after[0]}::uuid` : undefined,
        ),
      )
      .orderBy(desc(stocktakes.id))
      .limit(page.limit + 1);
  }

  async progress(ids: readonly string[]): Promise<Map<string, StocktakeProgress>> {
    const rows = await this.db
      .select({
        stocktakeId: stocktakeLines.stocktakeId,
        total: count(),
        counted: count(stocktakeLines.counted),
      })
      .from(stocktakeLines)
      .where(inArray(stocktakeLines.stocktakeId, [...ids]))
      .groupBy(stocktakeLines.stocktakeId);
    return new Map(rows.map((r) => [r.stocktakeId, { counted: r.counted, total: r.total }]));
  }

  /**
   * Lines sorted by SKU (the cursor); `onlyDifferences` keeps counted lines whose count differs from the
   * ledger, `productId` the one line of that product.
   */
  async lines(
    stocktake: StocktakeRow,
    { onlyDifferences = false, productId }: { onlyDifferences?: boolean; productId?: string },
    page: Page,
  ): Promise<StocktakeLineView[]> {
    const expected = expectedOf(stocktake.openedAt);
    const rows = rowsOf<Record<string, unknown>>(
      await this.db.execute(sql`
        select * from (
          select l.stocktake_id, l.product_id, l.sku, l.on_hand_at_open, l.counted, l.counted_at, l.counted_by,
            l.applied, ${expected} as expected
          from inventory.stocktake_lines l
          where l.stocktake_id = ${stocktake.id}::uuid
            ${page.after ? sql`and l.sku > ${page.after[0]}` : sql``}
            ${productId ? sql`and l.product_id = ${productId}::uuid` : sql``}
        ) x
        ${onlyDifferences ? sql`where x.counted is not null and x.counted <> x.expected` : sql``}
        order by x.sku limit ${page.limit + 1}`),
    );
    return rows.map(toLineView);
  }

  /**
   * Sets a product's count (the latest recorded wins; the same count again changes nothing, not even
   * who counted or when). `absent` when the product is not part of the stocktake.
   */
  async recordCount(
    stocktakeId: string,
    productId: string,
    counted: number,
    countedBy: string,
    at: Date,
  ): Promise<'changed' | 'unchanged' | 'absent'> {
    const [updated] = await this.db
      .update(stocktakeLines)
      .set({ counted, countedAt: at, countedBy })
      .where(
        and(
          eq(stocktakeLines.stocktakeId, stocktakeId),
          eq(stocktakeLines.productId, productId),
          sql`${stocktakeLines.counted} is distinct from ${counted}`,
        ),
      )
      .returning({ productId: stocktakeLines.productId });
    if (updated) return 'changed';
    const [unchanged] = await this.db
      .select({ productId: stocktakeLines.productId })
      .from(stocktakeLines)
      .where(and(eq(stocktakeLines.stocktakeId, stocktakeId), eq(stocktakeLines.productId, productId)));
    return unchanged ? 'unchanged' : 'absent';
  }

  /**
   * Adds each difference to its product's on-hand stock, all or none: when any would leave a product
   * below what confirmed orders hold reserved (or below zero), nothing changes and those are returned.
   */
  async applyDifferences(differences: { productId: string; delta: number }[]): Promise<ShortCount[]> {
    if (differences.length === 0) return [];
    const rows = rowsOf<{ product_id: string; sku: string; on_hand: number; reserved: number }>(
      await this.db.execute(sql`
        with d as (
          select * from unnest(${textArray(differences.map((d) => d.productId))}::uuid[],
            ${`{${differences.map((d) => d.delta).join(',')}}`}::int[]) as d(product_id, delta)
        ), short as (
          select p.id as product_id, p.sku, p.on_hand + d.delta as on_hand, p.reserved
          from inventory.products p join d on d.product_id = p.id
          where p.on_hand + d.delta < greatest(p.reserved, 0)
        ), applied as (
          update inventory.products p set on_hand = p.on_hand + d.delta, updated_at = now()
          from d where p.id = d.product_id and not exists (select 1 from short)
          returning p.id
        )
        select product_id, sku, on_hand, reserved from short order by sku`),
    );
    return rows.map((r) => ({
      productId: r.product_id,
      sku: r.sku,
      onHand: Number(r.on_hand),
      reserved: Number(r.reserved),
    }));
  }

  /**
   * Closing's arithmetic in one statement: every counted line's difference from what the ledger expected
   * is recorded as `applied` and returned for the caller to book; uncounted lines keep the ledger's level.
   */
  async settle(stocktake: StocktakeRow): Promise<{ productId: string; delta: number }[]> {
    const rows = rowsOf<{ product_id: string; delta: number }>(
      await this.db.execute(sql`
        update inventory.stocktake_lines s set applied = d.counted - d.expected
        from (select l.product_id, l.counted, ${expectedOf(stocktake.openedAt)} as expected
              from inventory.stocktake_lines l
              where l.stocktake_id = ${stocktake.id}::uuid and l.counted is not null) d
        where s.stocktake_id = ${stocktake.id}::uuid and s.product_id = d.product_id
        returning s.product_id, s.applied as delta`),
    );
    return rows.map((r) => ({ productId: r.product_id, delta: Number(r.delta) }));
  }

  /** Lifts the freeze and marks the stocktake closed. */
  async close(stocktakeId: string, closedBy: string, at: Date): Promise<StocktakeRow> {
    await this.db
      .update(products)
      .set({ stocktakeId: null })
      .where(
        inArray(
          products.id,
          this.db
            .select({ id: stocktakeLines.productId })
            .from(stocktakeLines)
            .where(eq(stocktakeLines.stocktakeId, stocktakeId)),
        ),
      );
    const [row] = await this.db
      .update(stocktakes)
      .set({ status: 'CLOSED', closedAt: at, closedBy })
      .where(eq(stocktakes.id, stocktakeId))
      .returning();
    return row!;
  }
}

function toLineView(r: Record<string, unknown>): StocktakeLineView {
  const date = (v: unknown) => (v == null ? null : new Date(v as string));
  const int = (v: unknown) => (v == null ? null : Number(v));
  return {
    stocktakeId: String(r.stocktake_id),
    productId: String(r.product_id),
    sku: String(r.sku),
    onHandAtOpen: Number(r.on_hand_at_open),
    counted: int(r.counted),
    countedAt: date(r.counted_at),
    countedBy: r.counted_by == null ? null : String(r.counted_by),
    applied: int(r.applied),
    expected: int(r.expected),
  };
}
