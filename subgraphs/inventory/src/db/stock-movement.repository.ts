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
  async latestByProducts(productIds: readonly string[], page: Page): Promise<StockMovementRow[][]> {
    const afterId = page.after?.[0];
    const keyset = afterId
      ? sql`and (m.created_at, m.id) < (${idTime(afterId).toISOString()}::timestamptz, ${afterId}::uuid)`
      : sql``;
    const result = await this.db.execute(sql`
      select m.id, m.created_at, m.product_id, m.delta, m.reason, m.order_id, m.note, m.actor_id
      from unnest(${textArray(productIds)}::uuid[]) as p(id)
      cross join lateral (
        select * from inventory.stock_movements m
        where m.product_id = p.id ${keyset}
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
}
