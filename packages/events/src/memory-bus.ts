import type { Delivery, Envelope, EventBus, StreamEntry } from './bus.js';

interface Pending {
  consumer: string;
  deliveredAt: number;
}

/** Entry ids as Redis writes them, so readers treat both buses alike: the index is the sequence. */
const entryId = (index: number) => `0-${index + 1}`;

interface Group {
  /** Index of the next entry never delivered to this group. */
  next: number;
  pending: Map<number, Pending>;
  waiters: Set<() => void>;
}

/**
 * The embedded stand-in for Redis Streams when every service runs in one process (`pnpm start`
 * without REDIS_URL): the same group, pending, acknowledge and claim semantics, kept in memory.
 */
export function createMemoryBus(): EventBus {
  const streams = new Map<string, { entries: Envelope[]; groups: Map<string, Group>; tailers: Set<() => void> }>();
  const stream = (name: string) => {
    let s = streams.get(name);
    if (!s) {
      s = { entries: [], groups: new Map(), tailers: new Set<() => void>() };
      streams.set(name, s);
    }
    return s;
  };
  const group = (name: string, groupName: string) => {
    const s = stream(name);
    let g = s.groups.get(groupName);
    if (!g) {
      g = { next: 0, pending: new Map(), waiters: new Set() };
      s.groups.set(groupName, g);
    }
    return g;
  };
  const take = (name: string, groupName: string, consumer: string, count: number): Delivery[] => {
    const s = stream(name);
    const g = group(name, groupName);
    const out: Delivery[] = [];
    while (g.next < s.entries.length && out.length < count) {
      const index = g.next++;
      g.pending.set(index, { consumer, deliveredAt: Date.now() });
      out.push({ deliveryId: String(index), envelope: s.entries[index]! });
    }
    return out;
  };
  const append = (name: string, envelope: Envelope) => {
    const s = stream(name);
    s.entries.push(envelope);
    for (const g of s.groups.values()) for (const wake of g.waiters) wake();
    for (const wake of s.tailers) wake();
  };
  const after = (name: string, afterId: string, count: number): StreamEntry[] => {
    const s = stream(name);
    const from = afterId === '$' ? s.entries.length : Number(afterId.split('-')[1] ?? 0);
    return s.entries.slice(from, from + count).map((envelope, i) => ({ id: entryId(from + i), envelope }));
  };
  return {
    async publish(name, envelope) {
      append(name, envelope);
    },
    async publishMany(entries) {
      for (const { stream: name, envelope } of entries) append(name, envelope);
    },
    async ensureGroup(name, groupName) {
      group(name, groupName);
    },
    async read(name, groupName, consumer, count, blockMs) {
      const ready = take(name, groupName, consumer, count);
      if (ready.length > 0 || blockMs <= 0) return ready;
      const g = group(name, groupName);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          g.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, blockMs);
        g.waiters.add(wake);
      });
      return take(name, groupName, consumer, count);
    },
    async claim(name, groupName, consumer, minIdleMs, count) {
      const s = stream(name);
      const g = group(name, groupName);
      const now = Date.now();
      const out: Delivery[] = [];
      for (const [index, p] of g.pending) {
        if (out.length >= count) break;
        if (now - p.deliveredAt < minIdleMs) continue;
        g.pending.set(index, { consumer, deliveredAt: now });
        out.push({ deliveryId: String(index), envelope: s.entries[index]! });
      }
      return out;
    },
    async ack(name, groupName, deliveryIds) {
      const g = group(name, groupName);
      for (const id of deliveryIds) g.pending.delete(Number(id));
    },
    async pending(name, groupName) {
      return group(name, groupName).pending.size;
    },
    // Entries are addressed by their index here, so they stay; the embedded bus lives as long as the process.
    async trim() {
      return 0;
    },
    async tail(name, afterId, count, blockMs) {
      const s = stream(name);
      const start = afterId === '$' ? entryId(s.entries.length - 1) : afterId;
      const ready = after(name, start, count);
      if (ready.length > 0 || blockMs <= 0) return ready;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          s.tailers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, blockMs);
        s.tailers.add(wake);
      });
      return after(name, start, count);
    },
    async position(name) {
      return { lastId: entryId(stream(name).entries.length - 1) };
    },
    // Nothing is ever trimmed here (see trim).
    async retainsAfter() {
      return true;
    },
    async ping() {},
    async close() {
      for (const s of streams.values()) for (const wake of s.tailers) wake();
      for (const s of streams.values()) for (const g of s.groups.values()) for (const wake of g.waiters) wake();
    },
  };
}
