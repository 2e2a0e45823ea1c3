import { consume, encode, inventoryStream } from '@stockgraph/contracts';
import { openDatabase, type DatabaseHandle } from '@stockgraph/db';
import { createMemoryBus, deadLetterStream, startConsumer, type Envelope, type ParkedEvent } from '@stockgraph/events';
import { newId } from '@stockgraph/ids';
import { inventoryTables } from '@stockgraph/inventory';
import { createLogger } from '@stockgraph/logger';
import { createTestDatabase, type TestDatabase } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Any service's processed-events table will do; this one needs only its own schema created.
const processed = inventoryTables.processedEvents;
const tables = { processed };
const ORDER = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

let database: TestDatabase;
let handle: DatabaseHandle<typeof tables>;

beforeAll(async () => {
  database = await createTestDatabase('dead_letter');
  handle = await openDatabase({ url: database.url, schema: tables, logger: createLogger('test', 'silent') });
  await handle.db.execute(`create schema inventory;
    create table inventory.processed_events (event_id uuid primary key, type text not null,
      processed_at timestamptz not null default now())`);
});

afterAll(async () => {
  await handle?.close();
  await database?.drop();
});

const envelope = (type: string, payload: unknown): Envelope => ({
  id: newId(),
  type,
  occurredAt: new Date().toISOString(),
  payload,
});

async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never: ${what}`);
}

describe('dead-letter stream', () => {
  it('parks unreadable events with their reason and a count, and keeps applying the rest', async () => {
    const bus = createMemoryBus();
    const applied: string[] = [];
    const parked: ParkedEvent[] = [];
    const apply = consume<typeof inventoryStream, null>(inventoryStream, {
      StockReserved: async ({ orderId }) => {
        applied.push(orderId);
      },
    });
    const consumer = startConsumer({
      db: handle.db,
      bus,
      processed,
      stream: inventoryStream.name,
      group: 'orders',
      logger: createLogger('test', 'silent'),
      handle: (event) => apply(event, null),
      onParked: (event) => parked.push(event),
    });
    try {
      const renamed = envelope('StockReserved', { order: ORDER });
      const unknown = envelope('StockLost', { orderId: ORDER });
      await bus.publish('inventory', renamed);
      await bus.publish('inventory', unknown);
      await bus.publish(
        'inventory',
        envelope('StockReserved', encode(inventoryStream, 'StockReserved', { orderId: ORDER })),
      );
      await eventually(() => applied.length === 1 && parked.length === 2, 'one applied, two parked');

      expect(parked.map((p) => [p.envelope.id, p.kind])).toEqual([
        [renamed.id, 'invalid-payload'],
        [unknown.id, 'unknown-type'],
      ]);
      await bus.ensureGroup(deadLetterStream('inventory'), 'operators');
      const letters = await bus.read(deadLetterStream('inventory'), 'operators', 'me', 10, 0);
      expect(letters.map((l) => l.envelope.payload)).toEqual(parked);
      expect(parked[0]!.reason).toMatch(/orderId/);
      // Acknowledged once parked: nothing is left pending to be retried forever.
      expect(await bus.claim('inventory', 'orders', 'other', 0, 10)).toEqual([]);
    } finally {
      await consumer.stop();
      await bus.close();
    }
  });
});
