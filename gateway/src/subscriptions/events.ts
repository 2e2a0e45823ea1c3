import type { EventBus, StreamEntry } from '@stockgraph/events';
import type { Logger } from '@stockgraph/logger';

export type EntryListener = (entry: StreamEntry) => void;

const BLOCK_MS = 5000;
const BATCH = 500;
const RETRY_MS = 1000;

/**
 * One reader per stream per gateway process, fanned out in memory to every subscriber of it: a
 * thousand subscribers cost one blocking XREAD, not a thousand. It starts with the first listener,
 * from the stream's newest id (so nothing added after that is missed), and reads until closed.
 */
export function createStreamFollower(bus: EventBus, logger: Logger) {
  const listeners = new Map<string, Set<EntryListener>>();
  const loops = new Map<string, Promise<void>>();
  let closed = false;

  async function follow(stream: string): Promise<void> {
    let lastId: string | null = null;
    while (!closed) {
      try {
        lastId ??= (await bus.position(stream)).lastId;
        const entries = await bus.tail(stream, lastId, BATCH, BLOCK_MS);
        for (const entry of entries) {
          lastId = entry.id;
          for (const listener of listeners.get(stream) ?? []) listener(entry);
        }
      } catch (error) {
        if (closed) return;
        logger.warn({ err: error, stream }, 'reading a stream for subscribers failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  return {
    /** Calls `listener` with every entry added to `stream` from now on; returns how to stop. */
    listen(stream: string, listener: EntryListener): () => void {
      let set = listeners.get(stream);
      if (!set) listeners.set(stream, (set = new Set()));
      set.add(listener);
      if (!loops.has(stream)) loops.set(stream, follow(stream));
      return () => set.delete(listener);
    },
    /** Subscribers listening in this process, for /metrics. */
    listenerCount: () => [...listeners.values()].reduce((n, s) => n + s.size, 0),
    async close() {
      closed = true;
      listeners.clear();
      await Promise.allSettled(loops.values());
    },
  };
}

export type StreamFollower = ReturnType<typeof createStreamFollower>;
