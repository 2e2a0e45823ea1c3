/** What services tell each other. `id` is a UUIDv7 chosen by the producer: the deduplication key. */
export interface Envelope<P = unknown> {
  id: string;
  type: string;
  occurredAt: string;
  payload: P;
}

export interface Delivery {
  /** The bus's id of this delivery (the Redis Streams entry id). */
  deliveryId: string;
  envelope: Envelope;
}

/** An entry read outside any consumer group, with the stream's id for it (a Redis Streams entry id). */
export interface StreamEntry {
  id: string;
  envelope: Envelope;
}

/** Where a stream stands: its newest id ("0-0" before its first entry). */
export interface StreamPosition {
  lastId: string;
}

/** Stream ids ("<ms>-<seq>") in order: negative when a is before b. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

export const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

/**
 * An append-only stream per producer with consumer groups: every group sees every event, each event
 * goes to one consumer of the group, stays pending until acknowledged, and can be claimed by another
 * consumer when its first consumer died. Redis Streams in production, an in-process twin embedded.
 */
export interface EventBus {
  publish(stream: string, envelope: Envelope): Promise<void>;
  /**
   * Publishes several events in one round trip, in order (the relay's batches). All of them or, on
   * failure, possibly some: callers treat a failure as none published and publish again.
   */
  publishMany(entries: { stream: string; envelope: Envelope }[]): Promise<void>;
  /** Creates the group if it does not exist; it starts at the beginning of the stream. */
  ensureGroup(stream: string, group: string): Promise<void>;
  /** New deliveries for this consumer, waiting up to `blockMs` for one. */
  read(stream: string, group: string, consumer: string, count: number, blockMs: number): Promise<Delivery[]>;
  /** Deliveries pending longer than `minIdleMs` (their consumer likely died), now owned by `consumer`. */
  claim(stream: string, group: string, consumer: string, minIdleMs: number, count: number): Promise<Delivery[]>;
  ack(stream: string, group: string, deliveryIds: string[]): Promise<void>;
  /** Deliveries the group has handed out and not yet acknowledged (XPENDING), for /metrics. */
  pending(stream: string, group: string): Promise<number>;
  /**
   * Drops entries older than `olderThanMs` that every existing group has acknowledged; returns how
   * many. The age floor keeps history for a consumer group that has not been created yet.
   */
  trim(stream: string, olderThanMs: number): Promise<number>;
  /**
   * Entries after `afterId` (exclusive), outside any group: for readers that follow a stream without
   * consuming it (the gateway's subscriptions). `afterId` "$" means only entries added from now on;
   * with `blockMs` > 0 it waits up to that long for one.
   */
  tail(stream: string, afterId: string, count: number, blockMs: number): Promise<StreamEntry[]>;
  position(stream: string): Promise<StreamPosition>;
  /** Whether every entry added after `afterId` is still held (none was trimmed away since). */
  retainsAfter(stream: string, afterId: string): Promise<boolean>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
