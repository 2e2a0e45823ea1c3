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
   * The newest movements of many products in one statement: a window per product keeps `limit + 1`
   * rows each, so the statement count does not grow with the number of products on the page.
   * `after` (a movement id) applies to every product of the batch; DataLoader batches by page args.
   */
  async latestByProducts(productIds: readonly string[], page: Page): Promise<StockMovementRow[][]> {
    const afterId = page.after?.[0];
    const keyset = afterId
      ? sql`and (m.created_at, m.id) < (${idTime(afterId).toISOString()}::timestamptz, ${afterId}::uuid)`
      : sql``;
    const result = await this.db.execute(sql`
      select id, created_at, product_id, delta, reason, order_id, note, actor_id from (
        select m.*, row_number() over (partition by m.product_id order by m.created_at desc, m.id desc) as rn
        from inventory.stock_movements m
        where m.product_id = any(${textArray(productIds)}::uuid[]) ${keyset}
      ) ranked
      where rn <= ${page.limit + 1}
      order by product_id, created_at desc, id desc`);
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

  async countByProducts(productIds: readonly string[]): Promise<number[]> {
    const result = await this.db.execute(sql`
      select product_id, count(*)::int as n from inventory.stock_movements
      where product_id = any(${textArray(productIds)}::uuid[])
      group by product_id`);
    const counts = new Map(rowsOf<{ product_id: string; n: number }>(result).map((r) => [r.product_id, Number(r.n)]));
    return productIds.map((id) => counts.get(id) ?? 0);
  }
}
