import { rowsOf, type Database } from '@stockgraph/db';
import { sql } from 'drizzle-orm';

type Db = Database<Record<string, unknown>>;

/** One aggregate row that disagrees with a recomputation over the raw rows. */
export interface AggregateDifference {
  /** The aggregate table, schema-qualified. */
  aggregate: string;
  /** Its key, e.g. `day=2026-11-02 status=CONFIRMED slot=3`. */
  key: string;
  expected: string;
  stored: string;
}

/**
 * The SQL functions of each service's aggregates (orders migration 0005, inventory migration 0005):
 * the recomputations live beside the triggers, so the check and the rebuild cannot drift from them.
 */
export const AGGREGATE_FUNCTIONS = {
  orders: { check: 'orders.aggregates_check', rebuild: 'orders.aggregates_rebuild' },
  inventory: { check: 'inventory.movement_counts_check', rebuild: 'inventory.movement_counts_rebuild' },
} as const;

export type AggregateService = keyof typeof AGGREGATE_FUNCTIONS;

export async function hasAggregates(db: Db, service: AggregateService): Promise<boolean> {
  const [row] = rowsOf<{ f: string | null }>(
    await db.execute(sql`select to_regproc(${AGGREGATE_FUNCTIONS[service].check})::text as f`),
  );
  return Boolean(row?.f);
}

/** Every difference, all read from one snapshot: writes committing meanwhile change raw rows and aggregates together. */
export async function checkAggregates(db: Db, service: AggregateService): Promise<AggregateDifference[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`set transaction isolation level repeatable read, read only`);
    const rows = await tx.execute(
      sql`select aggregate, key, expected, stored from ${sql.raw(AGGREGATE_FUNCTIONS[service].check)}()`,
    );
    return rowsOf<AggregateDifference>(rows);
  });
}

/**
 * Recomputes the service's aggregates in one transaction. The function takes SHARE locks on the raw
 * tables: reads go on, writers wait until the commit, so nothing written meanwhile is lost or counted twice.
 */
export async function rebuildAggregates(db: Db, service: AggregateService): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`select ${sql.raw(AGGREGATE_FUNCTIONS[service].rebuild)}()`);
  });
}
