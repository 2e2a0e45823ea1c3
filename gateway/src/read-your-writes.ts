import type { Logger } from '@stockgraph/logger';
import type { RedisClient } from './redis.js';

/** A Redis call slower than this counts as failed: the request goes on (to the primary). */
const COMMAND_TIMEOUT_MS = 250;
/** Callers whose last writes one gateway remembers itself, beside Redis. */
const LOCAL_ENTRIES = 10_000;

/** Each subgraph's LSN after the caller's last write to it; `unknown` when the store could not be read. */
export type LastWrites = Record<string, string> | 'unknown';

/**
 * `16/B374D848` → `00000016/B374D848`: the same position, still an LSN PostgreSQL and the subgraphs
 * parse, and now ordered as a string, so Redis can keep the larger of two without parsing them.
 */
export function sortableLsn(lsn: string): string | null {
  const match = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(lsn);
  return match ? `${match[1]!.padStart(8, '0')}/${match[2]!.padStart(8, '0')}`.toUpperCase() : null;
}

/** Keeps the larger LSN of the caller's writes to one subgraph, and the key alive for the TTL. */
const KEEP_LARGER = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (not current) or current < ARGV[2] then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`redis did not answer within ${COMMAND_TIMEOUT_MS} ms`)),
        COMMAND_TIMEOUT_MS,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Where each caller's last writes are remembered, so that its next read, through any gateway replica,
 * is served by a database replica that has replayed them (or by the primary). Kept per user in the
 * cache Redis for `ttlMs` (longer than any replica may lag before it leaves the rotation), and in this
 * gateway's memory too, so a write whose mark Redis did not take is still read back through this gateway.
 * When Redis cannot be read the answer is `unknown`, and the subgraphs then read from their primary.
 */
export class WriteMarks {
  private readonly local = new Map<string, { until: number; marks: Record<string, string> }>();

  constructor(
    private readonly redis: RedisClient | undefined,
    private readonly prefix: string,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {}

  async lastWrites(userId: string): Promise<LastWrites> {
    const mine = this.localMarks(userId);
    if (!this.redis) return mine;
    try {
      const shared = await withTimeout(this.redis.hGetAll(this.key(userId)));
      const merged: Record<string, string> = { ...shared };
      for (const [subgraph, lsn] of Object.entries(mine))
        if (!merged[subgraph] || merged[subgraph] < lsn) merged[subgraph] = lsn;
      return merged;
    } catch (error) {
      this.logger.debug({ err: error }, 'last writes unreadable; reads go to the primaries');
      return 'unknown';
    }
  }

  async wrote(userId: string, subgraph: string, lsn: string): Promise<void> {
    const sortable = sortableLsn(lsn);
    if (!sortable) return;
    const entry = this.local.get(userId);
    const marks = entry && entry.until > Date.now() ? entry.marks : {};
    if (!marks[subgraph] || marks[subgraph] < sortable) marks[subgraph] = sortable;
    this.local.delete(userId);
    this.local.set(userId, { until: Date.now() + this.ttlMs, marks });
    // A Map iterates in insertion order: the first entry is the one written longest ago.
    if (this.local.size > LOCAL_ENTRIES) this.local.delete(this.local.keys().next().value!);
    if (!this.redis) return;
    try {
      await withTimeout(
        this.redis.eval(KEEP_LARGER, {
          keys: [this.key(userId)],
          arguments: [subgraph, sortable, String(this.ttlMs)],
        }),
      );
    } catch (error) {
      this.logger.warn(
        { err: error, subgraph },
        'write mark not stored in redis: other gateway replicas may serve this caller stale reads for a while',
      );
    }
  }

  private localMarks(userId: string): Record<string, string> {
    const entry = this.local.get(userId);
    if (!entry) return {};
    if (entry.until > Date.now()) return entry.marks;
    this.local.delete(userId);
    return {};
  }

  private key(userId: string) {
    return `${this.prefix}last-writes:${userId}`;
  }
}
