import { rowsOf, type Database } from '@stockgraph/db';
import { sql } from 'drizzle-orm';
import type * as schema from './schema.js';

/**
 * Moves the aggregate deltas written since the last fold into the totals (migration 0007), in one
 * transaction; returns how many deltas it moved (0 when another replica is folding).
 */
export async function foldAggregates(db: Database<typeof schema>): Promise<number> {
  const [row] = rowsOf<{ n: number | string }>(await db.execute(sql`select orders.aggregates_fold() as n`));
  return Number(row?.n ?? 0);
}
