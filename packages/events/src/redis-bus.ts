import type { Logger } from '@stockgraph/logger';
import { openRedis, type RedisClient } from '@stockgraph/redis';
import { compareStreamIds, type Delivery, type Envelope, type EventBus, type StreamEntry } from './bus.js';

type Client = RedisClient;

function toDelivery(entry: { id: string; message: Record<string, string> } | null): Delivery | null {
  if (!entry?.message?.envelope) return null;
  return { deliveryId: entry.id, envelope: JSON.parse(entry.message.envelope) as Envelope };
}

/**
 * The connection name of the reader that follows `key` (`stream/group/consumer`, or `stream/tail`).
 * CLIENT SETNAME refuses spaces and anything outside printable ASCII, and a refused name would fail the
 * connection: those characters become `_`.
 */
export const readerName = (prefix: string, key: string) => `sg-read:${prefix}${key}`.replaceAll(/[^!-~]/g, '_');

/**
 * Redis Streams. Blocking reads get a connection per stream/consumer so they never hold up publishing;
 * every connection reconnects with backoff, and while Redis is away calls fail fast (the outbox keeps
 * events; consumers retry) instead of queueing without bound.
 */
export async function createRedisBus(
  url: string,
  prefix: string,
  logger: Logger,
  /**
   * false: resolve at once and connect in the background (the gateway, which serves queries while
   * Redis is away; its stream readers retry). By default the first connection is waited for, since
   * a service's start sets up its consumer groups.
   */
  { waitForConnection = true }: { waitForConnection?: boolean } = {},
): Promise<EventBus> {
  const clients: Client[] = [];
  const connect = async (name?: string) => {
    const client = openRedis(url, logger, {
      role: name ?? 'event bus',
      fallback: 'the outbox keeps events and consumers retry',
      connectTimeoutMs: 3000,
      maxBackoffMs: 3000,
      name,
    });
    clients.push(client);
    const connecting = client
      .connect()
      .catch((error: Error) => logger.warn({ err: error }, 'redis not reachable yet; retrying in the background'));
    if (waitForConnection) await connecting;
    return client;
  };
  const main = await connect();
  const readers = new Map<string, Promise<Client>>();
  // Each blocking reader is named after what it follows (CLIENT LIST shows who waits on which stream).
  const reader = (key: string) => {
    let client = readers.get(key);
    if (!client) {
      client = connect(readerName(prefix, key));
      readers.set(key, client);
    }
    return client;
  };
  const key = (stream: string) => `${prefix}${stream}`;
  // XINFO STREAM answers ERR for a stream never written to; node-redis maps its reply to an object.
  const streamInfo = async (stream: string) =>
    (await main.sendCommand(['XINFO', 'STREAM', key(stream)]).catch(() => null)) as Record<string, unknown> | null;

  return {
    async publish(stream, envelope) {
      await main.xAdd(key(stream), '*', { envelope: JSON.stringify(envelope) });
    },
    // MULTI/EXEC: one round trip for the batch, and Redis runs the XADDs back to back, in order.
    async publishMany(entries) {
      if (entries.length === 0) return;
      const batch = main.multi();
      for (const { stream, envelope } of entries) batch.xAdd(key(stream), '*', { envelope: JSON.stringify(envelope) });
      await batch.exec();
    },
    async ensureGroup(stream, group) {
      try {
        await main.xGroupCreate(key(stream), group, '0', { MKSTREAM: true });
      } catch (error) {
        if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
      }
    },
    async read(stream, group, consumer, count, blockMs) {
      const client = await reader(`${stream}/${group}/${consumer}`);
      const result = (await client.xReadGroup(group, consumer, [{ key: key(stream), id: '>' }], {
        COUNT: count,
        BLOCK: blockMs,
      })) as { name: string; messages: { id: string; message: Record<string, string> }[] }[] | null;
      return (result ?? []).flatMap((s) => s.messages.map(toDelivery)).filter((d): d is Delivery => d !== null);
    },
    async claim(stream, group, consumer, minIdleMs, count) {
      const result = (await main.xAutoClaim(key(stream), group, consumer, minIdleMs, '0-0', { COUNT: count })) as {
        messages: ({ id: string; message: Record<string, string> } | null)[];
      };
      return result.messages.map(toDelivery).filter((d): d is Delivery => d !== null);
    },
    async ack(stream, group, deliveryIds) {
      if (deliveryIds.length > 0) await main.xAck(key(stream), group, deliveryIds);
    },
    async pending(stream, group) {
      const summary = (await main.xPending(key(stream), group)) as { pending: number };
      return summary.pending;
    },
    async trim(stream, olderThanMs) {
      const streamKey = key(stream);
      let floor = `${Date.now() - olderThanMs}-0`;
      const below = (a: string, b: string) => {
        const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
        const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
        return am < bm || (am === bm && as < bs);
      };
      const groups = (await main.xInfoGroups(streamKey).catch(() => [])) as {
        name: string;
        'last-delivered-id': string;
        pending: number;
      }[];
      for (const group of groups) {
        const lastDelivered = group['last-delivered-id'];
        if (below(lastDelivered, floor)) floor = lastDelivered;
        if (group.pending > 0) {
          const pending = (await main.xPending(streamKey, group.name)) as { firstId: string | null };
          if (pending.firstId && below(pending.firstId, floor)) floor = pending.firstId;
        }
      }
      return Number(await main.xTrim(streamKey, 'MINID', floor));
    },
    async tail(stream, afterId, count, blockMs) {
      type Entries = { id: string; message: Record<string, string> }[];
      let messages: Entries;
      if (blockMs > 0) {
        // A blocking read holds its connection: one per stream, shared by whoever follows it here.
        const client = await reader(`${stream}/tail`);
        const result = (await client.xRead([{ key: key(stream), id: afterId }], { COUNT: count, BLOCK: blockMs })) as
          { messages: Entries }[] | null;
        messages = result?.[0]?.messages ?? [];
      } else {
        if (afterId === '$') return [];
        messages = (await main.xRange(key(stream), `(${afterId}`, '+', { COUNT: count })) as Entries;
      }
      return messages
        .map((m) => toDelivery(m))
        .filter((d): d is Delivery => d !== null)
        .map((d): StreamEntry => ({ id: d.deliveryId, envelope: d.envelope }));
    },
    async position(stream) {
      const info = await streamInfo(stream);
      return { lastId: info ? String(info['last-generated-id']) : '0-0' };
    },
    async retainsAfter(stream, afterId) {
      const info = await streamInfo(stream);
      if (!info) return true;
      const added = Number(info['entries-added']);
      const held = Number(info.length);
      // Trimming removes the oldest entries first: if none was removed, or the client's own last entry
      // is still here, everything after it is too. Otherwise it is safe only when it is not older than
      // the oldest entry left (or, with none left, not older than the newest ever added).
      if (added === held) return true;
      if (held === 0) return compareStreamIds(afterId, String(info['last-generated-id'])) >= 0;
      const first = String(info['recorded-first-entry-id']);
      if (compareStreamIds(afterId, first) >= 0) return true;
      const own = (await main.xRange(key(stream), afterId, afterId)) as unknown[];
      return own.length === 1;
    },
    async ping() {
      await main.ping();
    },
    async close() {
      await Promise.all(clients.map(async (c) => (c.isOpen ? c.quit().catch(() => c.destroy()) : undefined)));
    },
  };
}
