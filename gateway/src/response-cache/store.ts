import { randomUUID } from 'node:crypto';
import type { Logger } from '@stockgraph/logger';
import { connectWithin } from '@stockgraph/redis';
import { withinTimeout, type RedisClient } from '../redis.js';
import { responseCacheKeys, type InvalidationMessage } from '@stockgraph/contracts';
import { EVERYTHING } from './entities.js';

/** One cached answer: its data, when the request that fetched it started, until when, and its tags. */
export interface CachedAnswer {
  data: Record<string, unknown>;
  /** When the request that fetched it started (ms): an invalidation of a tag after this drops it. */
  since: number;
  expiresAt: number;
  tags: string[];
}

export type Layer = 'local' | 'shared';

/**
 * Invalidation times from other replicas are compared with this replica's clock: an invalidation
 * stamped up to this long before an answer's fetch began still drops it, so a skew between hosts
 * cannot keep an answer fetched before the change.
 */
const CLOCK_SKEW_MS = 100;
/** How long start waits for the pub/sub connection before going on without it. */
const FIRST_CONNECTION_WAIT_MS = 2000;
/** Invalidations that could not reach Redis, kept to apply once it is back; beyond this, everything goes. */
const MAX_PENDING_TAGS = 10_000;
/**
 * How long the events' invalidations wait to go to Redis together. Every replica follows the events
 * itself and drops its own answers at once; Redis' record guards only against an answer stored by a
 * replica that has not read the event yet, which takes longer than this. bench:orders at 10 clients
 * wrote two MULTIs of five tags per order, most of them the same type tags again.
 */
const EVENT_FLUSH_MS = 20;

export interface StoreEvents {
  /** The cache Redis failed a command or is away: the answer goes on uncached. */
  unavailable(): void;
  invalidated(tags: number, source: 'event' | 'mutation' | 'peer'): void;
}

/**
 * Two layers: a bounded map in this process, and the cache Redis shared by every replica. An entry
 * is valid until it expires or until any of its tags is invalidated after its fetch began; tags'
 * invalidation times live beside the entries (Redis: `i:<tag>`, kept as long as the longest entry),
 * so a slow fetch that raced a change is dropped instead of kept. Invalidations reach the other
 * replicas' local layers over pub/sub. While Redis is away, neither layer answers (a local entry
 * could miss a peer's invalidation), and invalidations made meanwhile are applied when it is back.
 */
export class ResponseStore {
  private readonly local = new Map<string, CachedAnswer>();
  private readonly invalidatedAt = new Map<string, number>();
  private readonly pending = new Map<string, number>();
  /** The write to Redis under way, and the one that will follow it with what arrived meanwhile. */
  private flushing: Promise<void> | null = null;
  private nextFlush: Promise<void> | null = null;
  /** The write the events' invalidations wait for (EVENT_FLUSH_MS). */
  private eventFlush: Promise<void> | null = null;
  /** Ends that wait at once, so close() need not sit it out. */
  private releaseEvents: (() => void) | null = null;
  private readonly instance = randomUUID();
  private subscriber: RedisClient | undefined;
  private peersReady = false;

  constructor(
    private readonly options: {
      redis?: RedisClient;
      /** The deployment's REDIS_KEY_PREFIX; the cache's keys are under it (@stockgraph/contracts). */
      keyPrefix: string;
      localEntries: number;
      /** The longest entry's life: how long an invalidation time must be remembered. */
      maxAgeMs: number;
      /**
       * With read replicas: an answer fetched within this long after a change of what it holds may come
       * from a replica that has not replayed the change, so it is not kept (RESPONSE_CACHE_SETTLE_MS).
       */
      settleMs?: number;
      logger: Logger;
      events: StoreEvents;
      now?: () => number;
      /** EVENT_FLUSH_MS unless set; 0 writes each event's invalidation at once. */
      eventFlushMs?: number;
    },
  ) {}

  private now() {
    return this.options.now?.() ?? Date.now();
  }

  private get keys() {
    return responseCacheKeys(this.options.keyPrefix);
  }

  /** Listens to the other replicas' invalidations; without Redis there are none. */
  async start(): Promise<void> {
    const { redis, logger } = this.options;
    if (!redis) return;
    // Invalidations made while Redis was away are written as soon as it is back.
    redis.on('ready', () => void this.flush());
    const subscriber = (this.subscriber = redis.duplicate());
    let subscribed = false;
    subscriber.on('error', () => this.lostPeers());
    subscriber.on('end', () => this.lostPeers());
    // node-redis subscribes again by itself after a reconnection; only a first subscription that could
    // not be made (Redis away at start) is made here, once it is reachable.
    subscriber.on('ready', () => {
      void (async () => {
        try {
          if (!subscribed) await subscriber.subscribe(this.keys.channel, (message) => this.fromPeer(message));
          subscribed = true;
          this.peersReady = true;
          await this.flush();
        } catch (error) {
          logger.warn({ err: error }, 'response cache: cannot hear the other replicas; answering uncached');
        }
      })();
    });
    // As every Redis connection of the gateway: a short wait at start, then on without it.
    await connectWithin(subscriber, FIRST_CONNECTION_WAIT_MS);
  }

  async close(): Promise<void> {
    // The events' invalidations still waiting go now, not after the wait.
    this.releaseEvents?.();
    await this.eventFlush;
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (!subscriber) return;
    if (subscriber.isReady) await subscriber.close();
    else subscriber.destroy();
  }

  /** Whether the cache may answer now: always without Redis; with it, only while it and its pub/sub are up. */
  private usable(): boolean {
    const { redis } = this.options;
    return !redis || (redis.isReady && this.peersReady);
  }

  private lostPeers() {
    // A peer's invalidation may be missed from now on: what this process holds can no longer be trusted.
    this.peersReady = false;
    this.local.clear();
  }

  private fromPeer(message: string) {
    try {
      const { from, tags } = JSON.parse(message) as InvalidationMessage;
      if (from === this.instance || !Array.isArray(tags)) return;
      // Stamped with this process's clock when heard: never earlier than the change.
      this.noteInvalidated(tags, this.now());
      this.options.events.invalidated(tags.length, 'peer');
    } catch (error) {
      this.options.logger.warn({ err: error }, 'response cache: unreadable invalidation message ignored');
    }
  }

  private noteInvalidated(tags: Iterable<string>, at: number) {
    for (const tag of tags) this.invalidatedAt.set(tag, Math.max(at, this.invalidatedAt.get(tag) ?? 0));
    // Forget what no live entry can predate.
    if (this.invalidatedAt.size > 10_000) {
      const horizon = this.now() - this.options.maxAgeMs - CLOCK_SKEW_MS - (this.options.settleMs ?? 0);
      for (const [tag, time] of this.invalidatedAt) if (time < horizon) this.invalidatedAt.delete(tag);
    }
  }

  private validLocally(answer: CachedAnswer): boolean {
    if (answer.expiresAt <= this.now()) return false;
    // Every hit runs this: no array built for it.
    const fetchedBefore = answer.since - CLOCK_SKEW_MS - (this.options.settleMs ?? 0);
    const current = (tag: string) => (this.invalidatedAt.get(tag) ?? -Infinity) < fetchedBefore;
    return current(EVERYTHING) && answer.tags.every(current);
  }

  async get(key: string): Promise<{ answer: CachedAnswer; layer: Layer } | 'unavailable' | undefined> {
    if (!this.usable()) return 'unavailable';
    const held = this.local.get(key);
    if (held) {
      this.local.delete(key);
      if (this.validLocally(held)) {
        this.local.set(key, held); // most recently used last
        return { answer: held, layer: 'local' };
      }
    }
    const { redis } = this.options;
    if (!redis) return undefined;
    try {
      const raw = await withinTimeout(redis.get(this.keys.entry(key)));
      if (!raw) return undefined;
      const answer = JSON.parse(raw) as CachedAnswer;
      const tags = [EVERYTHING, ...answer.tags];
      const times = await withinTimeout(redis.mGet(tags.map((tag) => this.keys.invalidatedAt(tag))));
      times.forEach((time, i) => time && this.noteInvalidated([tags[i]!], Number(time)));
      if (!this.validLocally(answer)) return undefined;
      this.keepLocally(key, answer);
      return { answer, layer: 'shared' };
    } catch (error) {
      this.options.logger.debug({ err: error }, 'response cache: redis read failed; answering uncached');
      this.options.events.unavailable();
      return 'unavailable';
    }
  }

  private keepLocally(key: string, answer: CachedAnswer) {
    if (this.options.localEntries === 0) return;
    this.local.delete(key);
    this.local.set(key, answer);
    while (this.local.size > this.options.localEntries) this.local.delete(this.local.keys().next().value!);
  }

  /**
   * Keeps an answer unless one of its tags was invalidated after its fetch began, or it is larger
   * than `maxBytes` (JSON characters). Whether it was kept.
   */
  async set(key: string, answer: CachedAnswer, maxBytes: number): Promise<boolean> {
    if (!this.usable() || !this.validLocally(answer)) return false;
    const serialized = JSON.stringify(answer);
    if (serialized.length > maxBytes) return false;
    this.keepLocally(key, answer);
    const { redis } = this.options;
    if (!redis) return true;
    try {
      const ttl = answer.expiresAt - this.now();
      if (ttl <= 0) return false;
      await withinTimeout(redis.set(this.keys.entry(key), serialized, { expiration: { type: 'PX', value: ttl } }));
      return true;
    } catch (error) {
      this.options.logger.debug({ err: error }, 'response cache: redis write failed');
      this.options.events.unavailable();
      return false;
    }
  }

  /** Drops every answer holding any of `tags`, here, in Redis and at every other replica. */
  async invalidate(tags: readonly string[], source: 'event' | 'mutation'): Promise<void> {
    if (tags.length === 0) return;
    const at = this.now();
    this.noteInvalidated(tags, at);
    this.options.events.invalidated(tags.length, source);
    if (!this.options.redis) return;
    for (const tag of tags) this.pending.set(tag, Math.max(at, this.pending.get(tag) ?? 0));
    if (this.pending.size > MAX_PENDING_TAGS) {
      this.pending.clear();
      this.pending.set(EVERYTHING, at);
    }
    // A mutation's caller waits for its write, which takes the events' invalidations waiting with it.
    await (source === 'event' ? this.flushSoon() : this.flush());
  }

  /** The events' write: a moment from now, with whatever else arrives meanwhile. */
  private flushSoon(): Promise<void> {
    const delay = this.options.eventFlushMs ?? EVENT_FLUSH_MS;
    if (delay === 0) return this.flush();
    this.eventFlush ??= new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      this.releaseEvents = () => {
        clearTimeout(timer);
        resolve();
      };
    }).then(() => {
      this.eventFlush = null;
      this.releaseEvents = null;
      return this.flush();
    });
    return this.eventFlush;
  }

  /**
   * One write to Redis at a time: invalidations made while one is under way go out together in the
   * next (and the events' wait a moment for company: flushSoon). Placing an order invalidates seven
   * times (its answer, then six events as the follower reads them in batches), and a MULTI and a
   * PUBLISH each, heard by every replica, made `invalidate` 4% of the gateway's CPU under bench:orders.
   * A caller waits for the write that carries its tags.
   */
  private flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.flushPending().finally(() => (this.flushing = null));
      return this.flushing;
    }
    this.nextFlush ??= this.flushing.then(() => {
      this.nextFlush = null;
      return this.flush();
    });
    return this.nextFlush;
  }

  /** Writes the invalidations Redis has not taken yet and tells the other replicas. */
  private async flushPending(): Promise<void> {
    const { redis, maxAgeMs } = this.options;
    if (!redis || this.pending.size === 0 || !redis.isReady) return;
    const batch = [...this.pending];
    this.pending.clear();
    try {
      const multi = redis.multi();
      for (const [tag, at] of batch)
        multi.set(this.keys.invalidatedAt(tag), String(at), {
          expiration: { type: 'PX', value: maxAgeMs + (this.options.settleMs ?? 0) + 60_000 },
        });
      const message: InvalidationMessage = { from: this.instance, tags: batch.map(([tag]) => tag) };
      multi.publish(this.keys.channel, JSON.stringify(message));
      await withinTimeout(multi.exec());
    } catch (error) {
      // Kept for the next attempt (the next invalidation, or Redis' return); newer times win.
      for (const [tag, at] of batch) this.pending.set(tag, Math.max(at, this.pending.get(tag) ?? 0));
      this.options.logger.debug({ err: error }, 'response cache: invalidation not written to redis yet');
      this.options.events.unavailable();
    }
  }

  /** Entries held in this process, for /metrics. */
  localSize(): number {
    return this.local.size;
  }
}
