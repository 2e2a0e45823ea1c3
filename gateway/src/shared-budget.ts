import { RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisClient } from './redis.js';

/**
 * After a write to Redis, the next one waits this long: under load every request's spending reaches
 * Redis within this bound, in one round trip for all callers instead of one per request (a socket
 * write and read cost ~0.2 ms of CPU each on these machines, a fifth of a simple operation's).
 */
const FLUSH_INTERVAL_MS = 50;
/** A caller's first request of a window waits at most this long for Redis before deciding alone. */
const FIRST_READ_TIMEOUT_MS = 250;
/** Windows that have ended are forgotten at most this often (a walk over every caller seen). */
const PRUNE_EVERY_MS = 1000;

interface Tally {
  /** The window's total in Redis (every replica's spending) as of the last answer read. */
  shared: number;
  /** Spent here and not yet sent to Redis. */
  unsent: number;
  /** Sent in the write now in flight, not yet in `shared`. */
  sending: number;
  /** When the window ends (epoch ms): Redis's TTL as last read, else this process's own guess. */
  resetAt: number;
  /** Redis has answered for this window: decisions are local from here on. */
  known: boolean;
  /** The first request's write, which the requests arriving meanwhile wait for. */
  reading?: Promise<void>;
}

/**
 * A budget per caller per window, shared by every gateway replica through Redis without a Redis round
 * trip per request (the one `rate-limiter-flexible` makes cost the gateway a Redis command, a timer and
 * an await on every operation). Each replica decides from the window's total as Redis last told it plus
 * what it has spent since, and adds what it spent to Redis in one MULTI for all callers, at most every
 * FLUSH_INTERVAL_MS. A caller's first request of a window spends through Redis and waits for the answer,
 * so a caller moving between replicas finds what the others counted. The price: a caller spending on
 * several replicas at once can overspend by what the others spent in the last few milliseconds.
 * Without Redis, or while it is unreachable, each replica counts alone (what it spent meanwhile is
 * added once Redis answers again). Keys and values are rate-limiter-flexible's, so replicas running
 * either agree during a rolling deploy.
 */
export class SharedBudget {
  readonly #tallies = new Map<string, Tally>();
  readonly #dirty = new Set<string>();
  readonly #windowMs: number;
  #inFlight: Promise<void> | null = null;
  #scheduled: Promise<void> | null = null;
  #lastFlushAt = 0;
  #lastPruneAt = 0;

  constructor(
    readonly limit: number,
    windowSeconds: number,
    private readonly redis: RedisClient | undefined,
    private readonly keyPrefix: string,
    private readonly onError: (error: unknown) => void,
  ) {
    this.#windowMs = windowSeconds * 1000;
  }

  /** Spends `points` of `key`'s budget: resolves with what is left, rejects with a RateLimiterRes when spent. */
  async consume(key: string, points: number): Promise<RateLimiterRes> {
    let tally = this.#tally(key);
    if (!tally.known && this.redis?.isReady) {
      if (tally.reading) {
        await tally.reading;
        tally = this.#tally(key);
      } else {
        // First request of the window here: spend through Redis and decide on its total.
        tally.unsent += points;
        this.#dirty.add(key);
        tally.reading = this.#flushWithin(FIRST_READ_TIMEOUT_MS);
        await tally.reading;
        tally.reading = undefined;
        tally = this.#tally(key);
        const used = tally.shared + tally.unsent + tally.sending;
        const result = this.#result(tally, used);
        if (used > this.limit) throw result;
        return result;
      }
    }
    const used = tally.shared + tally.unsent + tally.sending + points;
    if (used > this.limit) throw this.#result(tally, used);
    tally.unsent += points;
    this.#dirty.add(key);
    void this.#flushSoon();
    return this.#result(tally, used);
  }

  #result(tally: Tally, used: number): RateLimiterRes {
    return new RateLimiterRes(Math.max(0, this.limit - used), Math.max(0, tally.resetAt - Date.now()), used);
  }

  #tally(key: string): Tally {
    const now = Date.now();
    let tally = this.#tallies.get(key);
    if (!tally || tally.resetAt <= now) {
      tally = { shared: 0, unsent: 0, sending: 0, resetAt: now + this.#windowMs, known: !this.redis };
      this.#tallies.set(key, tally);
    }
    return tally;
  }

  async #flushWithin(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    // At once, beside any write in flight: one connection answers in order, so their totals arrive in order.
    await Promise.race([this.#flush(), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  /** The next write to Redis: at once when none ran in the last FLUSH_INTERVAL_MS, else after it. */
  #flushSoon(): Promise<void> {
    if (!this.redis) return Promise.resolve();
    this.#scheduled ??= this.#nextFlush();
    return this.#scheduled;
  }

  async #nextFlush(): Promise<void> {
    // Always asynchronous, so `#scheduled` is set before it is cleared below.
    await this.#inFlight;
    const wait = this.#lastFlushAt + FLUSH_INTERVAL_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    this.#scheduled = null;
    this.#inFlight = this.#flush().finally(() => (this.#inFlight = null));
    await this.#inFlight;
  }

  async #flush(): Promise<void> {
    const redis = this.redis;
    this.#lastFlushAt = Date.now();
    this.#prune(this.#lastFlushAt);
    if (!redis?.isReady || this.#dirty.size === 0) return;
    const batch: { key: string; tally: Tally; amount: number }[] = [];
    const multi = redis.multi();
    const expiration = { type: 'EX', value: Math.ceil(this.#windowMs / 1000) } as const;
    for (const key of this.#dirty) {
      const tally = this.#tallies.get(key);
      if (!tally) continue;
      const amount = tally.unsent;
      tally.sending += amount;
      tally.unsent = 0;
      batch.push({ key, tally, amount });
      const stored = `${this.keyPrefix}:${key}`;
      // SET NX starts the window (with its expiry) only if no replica has; all three run as one.
      multi.set(stored, '0', { expiration, condition: 'NX' }).incrBy(stored, amount).pTTL(stored);
    }
    this.#dirty.clear();
    try {
      const replies = (await multi.exec()) as unknown[];
      const now = Date.now();
      batch.forEach(({ tally, amount }, i) => {
        tally.sending -= amount;
        tally.shared = Number(replies[i * 3 + 1]);
        const ttl = Number(replies[i * 3 + 2]);
        if (ttl > 0) tally.resetAt = now + ttl;
        tally.known = true;
      });
    } catch (error) {
      // Not counted in Redis: kept here and sent with the next write.
      for (const { key, tally, amount } of batch) {
        tally.sending -= amount;
        tally.unsent += amount;
        this.#dirty.add(key);
      }
      this.onError(error);
    }
  }

  #prune(now: number): void {
    if (now - this.#lastPruneAt < PRUNE_EVERY_MS) return;
    this.#lastPruneAt = now;
    for (const [key, tally] of this.#tallies)
      if (tally.resetAt <= now && tally.sending === 0) {
        this.#tallies.delete(key);
        this.#dirty.delete(key);
      }
  }
}
