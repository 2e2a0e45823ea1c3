import { describe, expect, it } from 'vitest';
import type { Envelope } from './bus.js';
import { createMemoryBus } from './memory-bus.js';

const event = (n: number): Envelope => ({
  id: `e${n}`,
  type: 'T',
  occurredAt: new Date().toISOString(),
  payload: { n },
});

describe('in-process bus (the embedded stand-in for Redis Streams)', () => {
  it('gives every group every event, each to one consumer of the group', async () => {
    const bus = createMemoryBus();
    await bus.ensureGroup('s', 'a');
    await bus.ensureGroup('s', 'b');
    await bus.publish('s', event(1));
    await bus.publish('s', event(2));
    const a1 = await bus.read('s', 'a', 'c1', 1, 0);
    const a2 = await bus.read('s', 'a', 'c2', 10, 0);
    const b = await bus.read('s', 'b', 'c1', 10, 0);
    expect([...a1, ...a2].map((d) => d.envelope.id)).toEqual(['e1', 'e2']);
    expect(b.map((d) => d.envelope.id)).toEqual(['e1', 'e2']);
  });

  it('keeps a delivery pending until acknowledged and lets another consumer claim it once idle', async () => {
    const bus = createMemoryBus();
    await bus.ensureGroup('s', 'g');
    await bus.publish('s', event(1));
    const [delivery] = await bus.read('s', 'g', 'dies', 10, 0);
    expect(await bus.claim('s', 'g', 'survivor', 60_000, 10)).toEqual([]);
    const claimed = await bus.claim('s', 'g', 'survivor', 0, 10);
    expect(claimed.map((d) => d.envelope.id)).toEqual(['e1']);
    await bus.ack('s', 'g', [delivery!.deliveryId]);
    expect(await bus.claim('s', 'g', 'survivor', 0, 10)).toEqual([]);
  });

  it('wakes a blocked reader when an event arrives', async () => {
    const bus = createMemoryBus();
    await bus.ensureGroup('s', 'g');
    // Blocks far longer than the test may run: only the publish can end this read in time. The read
    // registers as a waiter before its first await, so the publish that follows finds it waiting.
    const reading = bus.read('s', 'g', 'c', 10, 600_000);
    await bus.publish('s', event(7));
    expect((await reading).map((d) => d.envelope.id)).toEqual(['e7']);
  });
});
