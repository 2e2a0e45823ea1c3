import { idTime } from '@stockgraph/ids';
import { rowsOf, textArray, type Database } from '@stockgraph/db';
import type { Page } from '@stockgraph/graphql-kit';
import { sql } from 'drizzle-orm';
import type * as schema from './schema.js';
import type { StockMovementRow } from './schema.js';

interface RawMovement {
  id: string;
  created_at: Date | string;
  product_id: string;
  delta: number;
  reason: StockMovementRow['reason'];
  order_id: string | null;
  note: string | null;
  actor_id: string | null;
}

function toRow(raw: RawMovement): StockMovementRow {
  return {
    id: raw.id,
    createdAt: new Date(raw.created_at),
    productId: raw.product_id,
    delta: Number(raw.delta),
    reason: raw.reason,
    orderId: raw.order_id,
    note: raw.note,
    actorId: raw.actor_id,
  };
}

export class StockMovementRepository {
  constructor(private readonly db: Database<typeof schema>) {}

  /**
   * The newest movements of many products in one statement: per product a LATERAL subquery walks the
   * (product_id, created_at, id) index newest first and stops after `limit + 1` rows, however long the
   * product's ledger is. `after` (a movement id) applies to every product of the batch; DataLoader
   * batches by page args.
   */
  async latestByProducts(
    productIds: readonly string[],
    page: Page,
    period: LedgerPeriod = {},
  ): Promise<StockMovementRow[][]> {
    const afterId = page.after?.[0];
    const keyset = afterId
      ? sql`and (m.created_at, m.id) < (${idTime(afterId).toISOString()}::timestamptz, ${afterId}::uuid)`
      : sql``;
    const since = period.since ? sql`and m.created_at >= ${period.since.toISOString()}::timestamptz` : sql``;
    const until = period.until ? sql`and m.created_at < ${period.until.toISOString()}::timestamptz` : sql``;
    const result = await this.db.execute(sql`
      select m.id, m.created_at, m.product_id, m.delta, m.reason, m.order_id, m.note, m.actor_id
      from unnest(${textArray(productIds)}::uuid[]) as p(id)
      cross join lateral (
        select * from inventory.stock_movements m
        where m.product_id = p.id ${keyset} ${since} ${until}
        order by m.created_at desc, m.id desc
        limit ${page.limit + 1}
      ) m`);
    const groups = new Map<string, StockMovementRow[]>(productIds.map((id) => [id, []]));
    for (const raw of rowsOf<RawMovement>(result)) groups.get(raw.product_id)?.push(toRow(raw));
    return productIds.map((id) => groups.get(id) ?? []);
  }

  /**
   * Movements by id, in the ids' order (null where none). Each id's creation time names its partition,
   * so the lookup joins on (id, created_at) and Postgres prunes to those partitions.
   */
  async findByIds(ids: readonly string[]): Promise<(StockMovementRow | null)[]> {
    const times = ids.map((id) => idTime(id).toISOString());
    const result = await this.db.execute(sql`
      select id, created_at, product_id, delta, reason, order_id, note, actor_id from inventory.stock_movements
      where (id, created_at) in (select * from unnest(${textArray(ids)}::uuid[], ${textArray(times)}::timestamptz[]))`);
    const byId = new Map(rowsOf<RawMovement>(result).map((raw) => [raw.id, toRow(raw)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Movements per product from the trigger-kept counts (migration 0005): at most 8 rows each. */
  async countByProducts(productIds: readonly string[]): Promise<number[]> {
    const result = await this.db.execute(sql`
      select product_id, sum(movements)::int as n from inventory.product_movement_counts
      where product_id = any(${textArray(productIds)}::uuid[])
      group by product_id`);
    const counts = new Map(rowsOf<{ product_id: string; n: number }>(result).map((r) => [r.product_id, Number(r.n)]));
    return productIds.map((id) => counts.get(id) ?? 0);
  }

  /** Movements per product within a period, counted on the (product_id, created_at, id) index. */
  async countByProductsBetween(productIds: readonly string[], period: LedgerPeriod): Promise<number[]> {
    const since = period.since ? sql`and created_at >= ${period.since.toISOString()}::timestamptz` : sql``;
    const until = period.until ? sql`and created_at < ${period.until.toISOString()}::timestamptz` : sql``;
    const result = await this.db.execute(sql`
      select product_id, count(*)::int as n from inventory.stock_movements
      where product_id = any(${textArray(productIds)}::uuid[]) ${since} ${until}
      group by product_id`);
    const counts = new Map(rowsOf<{ product_id: string; n: number }>(result).map((r) => [r.product_id, Number(r.n)]));
    return productIds.map((id) => counts.get(id) ?? 0);
  }

  /** Each product's levels at `at` (`inventory.stock_at`, migrations 0008 and 0012); null where it did not exist yet. */
  async levelsAt(productIds: readonly string[], at: Date): Promise<(StockLevel | null)[]> {
    const result = await this.db.execute(sql`
      select product_id, on_hand, reserved from inventory.stock_at(${textArray(productIds)}::uuid[], ${at.toISOString()}::timestamptz)`);
    const levels = new Map(
      rowsOf<{ product_id: string; on_hand: number | string; reserved: number | string }>(result).map((r) => {
        const onHand = Number(r.on_hand);
        const reserved = Number(r.reserved);
        return [r.product_id, { at, onHand, reserved, available: onHand - reserved }];
      }),
    );
    return productIds.map((id) => levels.get(id) ?? null);
  }

  /**
   * Stock valued at cost at `at`, per category: each product's units on hand then (`inventory.on_hand_at`,
   * migration 0011: stock_at's on-hand half, which skips the reservations) times its cost price then (the
   * last price-history row by that moment).
   */
  async valuationAt(at: Date, category: string | null): Promise<CategoryValuation[]> {
    const when = at.toISOString();
    const inCategory = category === null ? sql`` : sql`and category = ${category}`;
    const result = await this.db.execute(sql`
      with existing as (
        select id, category from inventory.products where created_at <= ${when}::timestamptz ${inCategory}
      ), levels as (
        select * from inventory.on_hand_at(${when}::timestamptz, ${category}::text)
      ), costs as (
        select distinct on (product_id) product_id, cost_price from inventory.price_history
        where product_id in (select id from existing) and changed_at <= ${when}::timestamptz
        order by product_id, changed_at desc, id desc
      )
      select e.category, count(*)::int as products, coalesce(sum(l.on_hand), 0)::bigint as units,
        coalesce(sum(l.on_hand * c.cost_price), 0)::numeric(14, 2)::text as value,
        coalesce(sum(l.on_hand) filter (where c.cost_price is null), 0)::bigint as unvalued
      from existing e
      join levels l on l.product_id = e.id
      left join costs c on c.product_id = e.id
      group by e.category
      order by e.category nulls last`);
    return rowsOf<{ category: string | null; products: number; units: string; value: string; unvalued: string }>(
      result,
    ).map((r) => ({
      category: r.category,
      products: Number(r.products),
      units: Number(r.units),
      value: r.value,
      unvaluedUnits: Number(r.unvalued),
    }));
  }
}

/** A period of the ledger: `since` inclusive, `until` exclusive; either may be open. */
export interface LedgerPeriod {
  since?: Date | null;
  until?: Date | null;
}

export interface StockLevel {
  at: Date;
  onHand: number;
  reserved: number;
  available: number;
}

export interface CategoryValuation {
  category: string | null;
  products: number;
  units: number;
  value: string;
  unvaluedUnits: number;
}
