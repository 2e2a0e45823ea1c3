import { randomUUID } from 'node:crypto';
import { consume, encode, inventoryStream } from '@stockgraph/contracts';
import { openDatabase, type DatabaseHandle } from '@stockgraph/db';
import { createRedisBus, deadLetterStream, startConsumer, type Envelope, type EventBus } from '@stockgraph/events';
import { newId } from '@stockgraph/ids';
import { inventoryTables } from '@stockgraph/inventory';
import { createLogger } from '@stockgraph/logger';
import { createTestDatabase, type TestDatabase } from '@stockgraph/testkit';
import postgres from 'postgres';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropRedisKeys, eventually, REDIS_URL } from '@stockgraph/testkit/saga';

// Any service's processed-events table will do; this one needs only its own schema created.
const processed = inventoryTables.processedEvents;
const tables = { processed };
const prefix = `sgtest:${randomUUID().slice(0, 8)}:`;
const logger = createLogger('test', 'silent');

let database: TestDatabase;
let handle: DatabaseHandle<typeof tables>;
let bus: EventBus;

beforeAll(async () => {
  database = await createTestDatabase('event_batch');
  handle = await openDatabase({ url: database.url, schema: tables, logger });
  await handle.db.execute(`create schema inventory;
    create table inventory.processed_events (event_id uuid primary key, type text not null,
      processed_at timestamptz not null default now());
    create table inventory.applied (order_id uuid not null)`);
  bus = await createRedisBus(REDIS_URL, prefix, logger);
});

afterAll(async () => {
  await bus?.close();
  await handle?.close();
  await database?.drop();
  await dropRedisKeys(prefix);
});

const reserved = (orderId: string): Envelope => ({
  id: newId(),
  type: 'StockReserved',
  occurredAt: new Date().toISOString(),
  payload: encode(inventoryStream, 'StockReserved', { orderId }),
});

describe('a consumer applying a batch of events', () => {
  it('applies a batch in one commit; with a poisoned event in it, applies the good ones once each, parks the poisoned one with its reason, and retries a failed one', async () => {
    const [first, flaky, last] = [newId(), newId(), newId()];
    const poisoned: Envelope = { ...reserved(newId()), payload: { order: 'renamed field' } };
    const events = [reserved(first), poisoned, reserved(flaky), reserved(last)];
    const clean = [reserved(newId()), reserved(newId()), reserved(newId())];
    // The clean three wait in the stream before the consumer starts, so its first read takes them together.
    await bus.ensureGroup(inventoryStream.name, 'orders');
    await bus.publishMany(clean.map((envelope) => ({ stream: inventoryStream.name, envelope })));

    let flakyAttempts = 0;
    const apply = consume<typeof inventoryStream, DatabaseHandle<typeof tables>['db']>(inventoryStream, {
      StockReserved: async ({ orderId }, _meta, tx) => {
        // orderId passed its contract's uuid check, so it can sit in the statement as it is.
        await tx.execute(`insert into inventory.applied (order_id) values ('${orderId}')`);
        // Fails after writing, the first time only: its write must roll back.
        if (orderId === flaky && flakyAttempts++ === 0) throw new Error('deadlock detected (simulated)');
      },
    });
    const consumer = startConsumer({
      db: handle.db,
      bus,
      processed,
      stream: inventoryStream.name,
      group: 'orders',
      logger,
      // The failed event is retried once it has been pending this long.
      claimIdleMs: 1000,
      handle: (envelope, tx) => apply(envelope, tx),
    });
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const sql = postgres(database.url, { max: 1 });
    try {
      await eventually(
        async () => (await sql`select count(*)::int as n from inventory.processed_events`)[0]!.n === clean.length,
        15_000,
        'the clean batch applied',
      );
      await bus.publishMany(events.map((envelope) => ({ stream: inventoryStream.name, envelope })));
      await eventually(
        async () =>
          (await redis.xPending(`${prefix}${inventoryStream.name}`, 'orders')).pending === 0 && flakyAttempts > 1,
        15_000,
        'every event applied or parked and acknowledged',
      );

      // Each good event applied exactly once; the flaky one's first, failed write left nothing behind.
      const applied = await sql<{ order_id: string }[]>`select order_id from inventory.applied`;
      const cleanOrders = clean.map((e) => (e.payload as { orderId: string }).orderId);
      expect(applied.map((r) => r.order_id).sort()).toEqual([...cleanOrders, first, flaky, last].sort());

      // The poisoned event is not recorded as processed; a batch without failures shares one commit.
      const records = await sql<
        { event_id: string; processed_at: Date }[]
      >`select event_id, processed_at from inventory.processed_events`;
      const at = new Map(records.map((r) => [r.event_id, r.processed_at.toISOString()]));
      expect([...at.keys()].sort()).toEqual(
        [...clean.map((e) => e.id), events[0]!.id, events[2]!.id, events[3]!.id].sort(),
      );
      expect(new Set(clean.map((e) => at.get(e.id))).size).toBe(1);

      // Parked on the dead-letter stream with the event as delivered and why it cannot be applied.
      const letters = await redis.xRange(`${prefix}${deadLetterStream(inventoryStream.name)}`, '-', '+');
      expect(letters).toHaveLength(1);
      const letter = JSON.parse(letters![0]!.message.envelope!) as Envelope<{
        kind: string;
        reason: string;
        envelope: Envelope;
      }>;
      expect(letter.payload.kind).toBe('invalid-payload');
      expect(letter.payload.reason).toMatch(/orderId/);
      expect(letter.payload.envelope.id).toBe(poisoned.id);
    } finally {
      await consumer.stop();
      await redis.quit();
      await sql.end();
    }
  });

  it('acknowledges events its handlers ignore without recording them, and still parks a type the stream does not declare', async () => {
    // A stream of its own: the group reads only this test's events.
    const ownBus = await createRedisBus(REDIS_URL, `${prefix}ignored:`, logger);
    const orderId = newId();
    const changed: Envelope = {
      id: newId(),
      type: 'StockChanged',
      occurredAt: new Date().toISOString(),
      payload: encode(inventoryStream, 'StockChanged', {
        productId: newId(),
        movementId: newId(),
        reason: 'RESERVATION',
        delta: 1,
        available: 9,
        reorderLevel: 0,
      }),
    };
    const undeclared: Envelope = { ...reserved(newId()), type: 'StockTeleported' };
    const events = [changed, reserved(orderId), undeclared];
    await ownBus.ensureGroup(inventoryStream.name, 'orders');
    await ownBus.publishMany(events.map((envelope) => ({ stream: inventoryStream.name, envelope })));
    const apply = consume<typeof inventoryStream, DatabaseHandle<typeof tables>['db']>(inventoryStream, {
      StockReserved: async ({ orderId: id }, _meta, tx) => {
        await tx.execute(`insert into inventory.applied (order_id) values ('${id}')`);
      },
    });
    expect([apply.applies('StockChanged'), apply.applies('StockReserved'), apply.applies('StockTeleported')]).toEqual([
      false,
      true,
      true,
    ]);
    const consumer = startConsumer({
      db: handle.db,
      bus: ownBus,
      processed,
      stream: inventoryStream.name,
      group: 'orders',
      logger,
      handle: (envelope, tx) => apply(envelope, tx),
      applies: apply.applies,
    });
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const sql = postgres(database.url, { max: 1 });
    try {
      const stream = `${prefix}ignored:${inventoryStream.name}`;
      // Applied first, then nothing pending: before the consumer's first read nothing is pending either.
      await eventually(
        async () =>
          (await sql`select 1 from inventory.applied where order_id = ${orderId}`).length === 1 &&
          (await redis.xPending(stream, 'orders')).pending === 0,
        15_000,
        'every event acknowledged and the handled one applied',
      );
      const records =
        await sql`select event_id from inventory.processed_events where event_id = any(${events.map((e) => e.id)})`;
      // The handled event is recorded; the ignored one needed no record, the undeclared one was refused.
      expect(records.map((r) => r.event_id)).toEqual([events[1]!.id]);
      const letters =
        (await redis.xRange(`${prefix}ignored:${deadLetterStream(inventoryStream.name)}`, '-', '+')) ?? [];
      expect(
        letters.map((l) => (JSON.parse(l.message.envelope!) as Envelope<{ envelope: Envelope }>).payload.envelope.id),
      ).toEqual([undeclared.id]);
    } finally {
      await consumer.stop();
      await ownBus.close();
      await redis.quit();
      await sql.end();
    }
  });
});
