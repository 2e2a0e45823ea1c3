import { randomUUID } from 'node:crypto';
import { createMemoryBus, type StreamEntry } from '@stockgraph/events';
import { describe, expect, it } from 'vitest';
import { liveEvents, type Accepted, type LiveOptions } from './live.js';

const envelope = (n: number) => ({
  id: randomUUID(),
  type: 'Tick',
  occurredAt: new Date().toISOString(),
  payload: { n },
});

/** A subscriber on the in-process bus, fed live entries by hand the way the shared reader feeds them. */
function subscriber(overrides: Partial<LiveOptions> = {}) {
  const bus = createMemoryBus();
  let feed: ((accepted: Accepted) => void) | null = null;
  const accept = (entry: StreamEntry): Accepted => ({ entry, payload: entry.envelope.payload });
  const events = liveEvents({
    bus,
    stream: 'ticks',
    startId: '0-0',
    listen: (onEntry) => {
      feed = onEntry;
      return () => (feed = null);
    },
    accept,
    resolve: async ({ entry, payload }) => ({ data: { tick: payload }, extensions: { streamId: entry.id } }),
    unwritten: () => 0,
    backlogMax: 1000,
    recheck: async () => null,
    recheckMs: 60_000,
    onEnd: () => {},
    ...overrides,
  });
  const publish = async (n: number) => {
    await bus.publish('ticks', envelope(n));
    const [entry] = await bus.tail('ticks', `0-${n - 1}`, 1, 0);
    return entry!;
  };
  return { bus, events, publish, live: (entry: StreamEntry) => feed?.(accept(entry)) };
}

describe('a live subscription', () => {
  it('delivers what it missed, then live entries, each once and in order', async () => {
    const { events, publish, live } = subscriber();
    await publish(1);
    const second = await publish(2);
    const first = await events.next();
    // Entry 2 also arrives live while the catch-up is still delivering it: it must not come twice.
    live(second);
    live(await publish(3));
    const rest = [await events.next(), await events.next()];
    expect([first, ...rest].map((r) => r.value.extensions.streamId)).toEqual(['0-1', '0-2', '0-3']);
    await events.return?.();
  });

  it('drops a subscriber that falls too far behind with SLOW_CONSUMER, holding no more than its bound', async () => {
    let ended = false;
    // As over SSE: ten events handed to the transport are still unwritten, so the next one is too many.
    const { events, publish, live } = subscriber({ backlogMax: 3, unwritten: () => 10, onEnd: () => (ended = true) });
    const firstStep = events.next();
    await new Promise((resolve) => setImmediate(resolve));
    for (let n = 1; n <= 10; n++) live(await publish(n));
    const steps: unknown[] = [(await firstStep).value];
    for (;;) {
      const step = await events.next();
      if (step.done) break;
      steps.push(step.value);
    }
    expect(steps.at(-1)).toMatchObject({ data: null, errors: [{ extensions: { code: 'SLOW_CONSUMER' } }] });
    expect(steps).toHaveLength(1);
    expect(ended).toBe(true);
  });

  it('frees its place at once when the client leaves while it waits for an event', async () => {
    let ended = false;
    const { events } = subscriber({ onEnd: () => (ended = true) });
    const waiting = events.next();
    await new Promise((resolve) => setImmediate(resolve));
    await events.return?.();
    expect((await waiting).done).toBe(true);
    expect(ended).toBe(true);
  });
});
