import { createHash } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { primaryKey, text, timestamp, uuid, type PgSchema } from 'drizzle-orm/pg-core';
import type { Tx } from './database.js';

/** Keys clients send with a creating mutation so that a retry returns the first attempt's result. */
export function idempotencyKeysTable(schema: PgSchema) {
  return schema.table(
    'idempotency_keys',
    {
      userId: uuid('user_id').notNull(),
      key: text('key').notNull(),
      requestHash: text('request_hash').notNull(),
      /** Set in the same transaction that creates the result; null only inside that transaction. */
      resultId: uuid('result_id'),
      createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    },
    (t) => [primaryKey({ columns: [t.userId, t.key] })],
  );
}

export type IdempotencyKeysTable = ReturnType<typeof idempotencyKeysTable>;

/** What a key's row remembers of the request, to tell a retry from another request under the same key. */
export function requestHashOf(request: unknown): string {
  return createHash('sha256').update(JSON.stringify(request)).digest('hex');
}

export type Once = { outcome: 'created' | 'replayed'; id: string } | { outcome: 'conflict' };

/**
 * Runs `create` at most once per (user, key), inside the caller's transaction. A concurrent attempt
 * with the same key waits on the key's row until the first commits, then replays its result; the same
 * key with a different request is a conflict; if the first attempt rolls back, the key is free again.
 */
export async function once<TSchema extends Record<string, unknown>>(
  tx: Tx<TSchema>,
  table: IdempotencyKeysTable,
  claim: { userId: string; key: string; request: unknown },
  create: () => Promise<string>,
): Promise<Once> {
  const requestHash = requestHashOf(claim.request);
  const claimed = await tx
    .insert(table)
    .values({ userId: claim.userId, key: claim.key, requestHash })
    .onConflictDoNothing()
    .returning({ key: table.key });
  if (claimed.length === 0) {
    const [earlier] = await tx
      .select()
      .from(table)
      .where(and(eq(table.userId, claim.userId), eq(table.key, claim.key)));
    if (!earlier || earlier.requestHash !== requestHash || !earlier.resultId) return { outcome: 'conflict' };
    return { outcome: 'replayed', id: earlier.resultId };
  }
  const id = await create();
  await tx
    .update(table)
    .set({ resultId: id })
    .where(and(eq(table.userId, claim.userId), eq(table.key, claim.key)));
  return { outcome: 'created', id };
}
