import type { Database, Tx } from './database.js';

/** Runs `work` in one transaction; bound to a service's database and relay by the subgraph runtime. */
export type Transact<TSchema extends Record<string, unknown>> = <T>(
  work: (tx: Tx<TSchema>) => Promise<T>,
) => Promise<T>;

/**
 * Runs a write and the outbox rows announcing it in one transaction, then calls `afterCommit` (which
 * wakes the outbox relay, so the events leave now rather than at its next tick). A rolled back write
 * wakes nothing: there is nothing new to publish.
 */
export async function transact<TSchema extends Record<string, unknown>, T>(
  db: Database<TSchema>,
  work: (tx: Tx<TSchema>) => Promise<T>,
  afterCommit?: () => void,
): Promise<T> {
  const result = await db.transaction(work);
  afterCommit?.();
  return result;
}
