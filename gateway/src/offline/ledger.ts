import type { Logger } from '@stockgraph/logger';
import { withinTimeout, type RedisClient } from '../redis.js';

/** What an offline operation came to: the order or product it touched, or its final refusal. */
export interface Recorded {
  orderId?: string;
  productId?: string;
  code?: string;
  message?: string;
  /** A digest of the operation the key came with: the key sent with another is refused CONFLICT. */
  request?: string;
}

/** What each (user, idempotency key) of a submitted batch came to, so a resend is answered, not rerun. */
export interface OfflineLedger {
  get(userId: string, key: string): Promise<Recorded | null>;
  set(userId: string, key: string, recorded: Recorded): Promise<void>;
}

/** Longer than an operation may wait to be replayed (MAX_AGE_MS), so a replay always finds its record. */
const KEEP_SECONDS = 31 * 86_400;
/** Records an in-process ledger keeps (the embedded default: one gateway, no Redis). */
const MEMORY_ENTRIES = 100_000;

/**
 * On the gateway's cache Redis, shared by every replica. Losing a record (eviction, an outage) costs the
 * ALREADY_DONE answer, not correctness: the resend runs again and the services' own idempotency keys
 * apply it once (stocktake counts, which have none, are set to the same count again).
 */
export function redisLedger(redis: RedisClient, prefix: string, logger: Logger): OfflineLedger {
  const keyOf = (userId: string, key: string) => `${prefix}offline:${userId}:${key}`;
  return {
    async get(userId, key) {
      try {
        const value = await withinTimeout(redis.get(keyOf(userId, key)));
        return value ? (JSON.parse(value) as Recorded) : null;
      } catch (error) {
        logger.warn({ err: error }, 'offline ledger unreadable: the operation runs (its idempotency key still holds)');
        return null;
      }
    },
    async set(userId, key, recorded) {
      try {
        await withinTimeout(redis.set(keyOf(userId, key), JSON.stringify(recorded), { EX: KEEP_SECONDS }));
      } catch (error) {
        logger.warn(
          { err: error },
          'offline ledger not written: a resend will run again (its idempotency key still holds)',
        );
      }
    },
  };
}

/** In this process's memory, oldest dropped first beyond MEMORY_ENTRIES. */
export function memoryLedger(): OfflineLedger {
  const entries = new Map<string, { recorded: Recorded; until: number }>();
  return {
    async get(userId, key) {
      const entry = entries.get(`${userId}:${key}`);
      return entry && entry.until > Date.now() ? entry.recorded : null;
    },
    async set(userId, key, recorded) {
      const id = `${userId}:${key}`;
      entries.delete(id);
      entries.set(id, { recorded, until: Date.now() + KEEP_SECONDS * 1000 });
      if (entries.size > MEMORY_ENTRIES) entries.delete(entries.keys().next().value!);
    },
  };
}
