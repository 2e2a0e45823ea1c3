import { count, eq, min } from 'drizzle-orm';
import type { Database } from '@stockgraph/db';
import type * as schema from './schema.js';
import { orders } from './schema.js';

/** PENDING orders, for /metrics: how many and since when the oldest waits (orders_status_created_idx). */
export async function pendingOrderStats(db: Database<typeof schema>): Promise<{ count: number; oldest: Date | null }> {
  const [row] = await db
    .select({ n: count(), oldest: min(orders.createdAt) })
    .from(orders)
    .where(eq(orders.status, 'PENDING'));
  return { count: Number(row?.n ?? 0), oldest: row?.oldest ? new Date(row.oldest) : null };
}
