import { follow, type EventBus, type FollowLoop, type StreamEntry } from '@stockgraph/events';
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
  const loops = new Map<string, FollowLoop>();
  let closed = false;

  function start(stream: string): FollowLoop {
    let lastId: string | null = null;
    return follow({
      next: async () => bus.tail(stream, (lastId ??= (await bus.position(stream)).lastId), BATCH, BLOCK_MS),
      handle: (entries) => {
        for (const entry of entries) {
          lastId = entry.id;
          for (const listener of listeners.get(stream) ?? []) listener(entry);
        }
      },
      retry: { firstMs: RETRY_MS, maxMs: RETRY_MS },
      onError: (error) => logger.warn({ err: error, stream }, 'reading a stream for subscribers failed; retrying'),
    });
  }

  return {
    /** Calls `listener` with every entry added to `stream` from now on; returns how to stop. */
    listen(stream: string, listener: EntryListener): () => void {
      let set = listeners.get(stream);
      if (!set) listeners.set(stream, (set = new Set()));
      set.add(listener);
      if (!closed && !loops.has(stream)) loops.set(stream, start(stream));
      return () => set.delete(listener);
    },
    /** Subscribers listening in this process, for /metrics. */
    listenerCount: () => [...listeners.values()].reduce((n, s) => n + s.size, 0),
    async close() {
      closed = true;
      listeners.clear();
      await Promise.allSettled([...loops.values()].map((loop) => loop.stop()));
    },
  };
}

export type StreamFollower = ReturnType<typeof createStreamFollower>;
