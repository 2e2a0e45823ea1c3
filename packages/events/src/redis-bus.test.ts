import { randomUUID } from 'node:crypto';
import { createLogger } from '@stockgraph/logger';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBus } from './bus.js';
import { createRedisBus, readerName } from './redis-bus.js';

const URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `sgtest:${randomUUID().slice(0, 8)}:`;
let bus: EventBus;
const event = (n: number) => ({ id: `e${n}`, type: 'T', occurredAt: new Date().toISOString(), payload: { n } });

/** Resolves once the connection called `name` is blocked in XREAD (CLIENT LIST: cmd=xread, flag b). */
async function blockedInXread(name: string): Promise<void> {
  const client = createClient({ url: URL });
  await client.connect();
  try {
    for (;;) {
      const clients = (await client.sendCommand(['CLIENT', 'LIST', 'TYPE', 'normal'])) as string;
      const line = clients.split('\n').find((l) => l.includes(` name=${name} `));
      if (line && / cmd=xread /.test(line) && / flags=\S*b/.test(line)) return;
    }
  } finally {
    await client.quit();
  }
}

beforeAll(async () => {
  bus = await createRedisBus(URL, prefix, createLogger('test', 'silent'));
});

afterAll(async () => {
  await bus?.close();
  const client = createClient({ url: URL });
  await client.connect();
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*` })) if (keys.length) await client.del(keys);
  await client.quit();
});

describe('Redis Streams bus', () => {
  it('is followed outside any group from an id, and knows when entries after an id were trimmed away', async () => {
    expect(await bus.position('tail')).toEqual({ lastId: '0-0' });
    await bus.publish('tail', event(1));
    const { lastId: first } = await bus.position('tail');
    await bus.publish('tail', event(2));
    await bus.publish('tail', event(3));
    const after = await bus.tail('tail', first, 10, 0);
    expect(after.map((e) => e.envelope.id)).toEqual(['e2', 'e3']);
    expect(await bus.retainsAfter('tail', first)).toBe(true);
    const waiting = bus.tail('tail', '$', 10, 30_000);
    // '$' means "after whatever is last when the read starts": publish only once Redis reports this
    // bus's tail reader blocked in XREAD, or the event would land before the read and be skipped.
    await blockedInXread(readerName(prefix, 'tail/tail'));
    await bus.publish('tail', event(4));
    expect((await waiting).map((e) => e.envelope.id)).toEqual(['e4']);
    const client = createClient({ url: URL });
    await client.connect();
    await client.xTrim(`${prefix}tail`, 'MAXLEN', 2);
    await client.quit();
    // e1 and e2 are gone: after e1 something is missing; after e3, still held, nothing is.
    expect(await bus.retainsAfter('tail', first)).toBe(false);
    expect(await bus.retainsAfter('tail', after[1]!.id)).toBe(true);
  });

  it('delivers each event once per group, keeps it pending until acknowledged, and lets another consumer claim it', async () => {
    await bus.ensureGroup('claims', 'g');
    await bus.ensureGroup('claims', 'g'); // idempotent
    await bus.publish('claims', event(1));
    const [first] = await bus.read('claims', 'g', 'dies', 10, 100);
    expect(first?.envelope).toMatchObject({ id: 'e1', payload: { n: 1 } });
    expect(await bus.read('claims', 'g', 'other', 10, 100)).toEqual([]);
    const claimed = await bus.claim('claims', 'g', 'other', 0, 10);
    expect(claimed.map((d) => d.envelope.id)).toEqual(['e1']);
    await bus.ack(
      'claims',
      'g',
      claimed.map((d) => d.deliveryId),
    );
    expect(await bus.claim('claims', 'g', 'other', 0, 10)).toEqual([]);
  });

  it('trims only old entries every group has acknowledged', async () => {
    await bus.ensureGroup('trim', 'fast');
    await bus.ensureGroup('trim', 'slow');
    for (let n = 0; n < 6; n++) await bus.publish('trim', event(n));
    const fast = await bus.read('trim', 'fast', 'c', 10, 100);
    await bus.ack(
      'trim',
      'fast',
      fast.map((d) => d.deliveryId),
    );
    const slow = await bus.read('trim', 'slow', 'c', 4, 100);
    await bus.ack(
      'trim',
      'slow',
      slow.slice(0, 2).map((d) => d.deliveryId),
    ); // e2, e3 stay pending
    expect(await bus.trim('trim', 3_600_000)).toBe(0); // nothing is an hour old
    expect(await bus.trim('trim', 0)).toBe(2); // e0, e1: acknowledged by both groups
    // What is still pending for "slow" survives, and so does what it has not read yet.
    const reclaimed = await bus.claim('trim', 'slow', 'c2', 0, 10);
    expect(reclaimed.map((d) => d.envelope.id)).toEqual(['e2', 'e3']);
    expect((await bus.read('trim', 'slow', 'c2', 10, 100)).map((d) => d.envelope.id)).toEqual(['e4', 'e5']);
  });
});
