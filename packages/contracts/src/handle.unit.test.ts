import { UnprocessableEvent, type Envelope } from '@stockgraph/events';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { event, stream } from './contract.js';
import { consume } from './handle.js';
import { encode, VERSION_KEY } from './publish.js';
import { customersStream, inventoryStream, ordersStream, streams } from './streams.js';

const ORDER = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const PRODUCT = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c';

/** What the relay delivers for a row the producer stored. */
const delivered = (type: string, payload: unknown): Envelope => ({
  id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a60',
  type,
  occurredAt: '2026-11-28T04:00:00.000Z',
  payload,
});

async function unprocessable(work: Promise<unknown>): Promise<UnprocessableEvent> {
  const error: unknown = await work.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof UnprocessableEvent)) throw new Error(`expected an UnprocessableEvent, got ${String(error)}`);
  return error;
}

describe('event contracts', () => {
  it('declares each stream once, with unique names and positive versions', () => {
    expect(new Set(streams.map((s) => s.name)).size).toBe(streams.length);
    for (const s of streams) for (const e of Object.values(s.events)) expect(e.version).toBeGreaterThanOrEqual(1);
  });

  it('hands a consumer the payload the producer wrote, stamped with its version', async () => {
    const stored = encode(ordersStream, 'OrderPlaced', {
      orderId: ORDER,
      items: [{ productId: PRODUCT, quantity: 2 }],
    });
    expect(stored[VERSION_KEY]).toBe(1);
    const seen = vi.fn();
    const apply = consume<typeof ordersStream, string>(ordersStream, {
      OrderPlaced: async (payload, meta, context) => seen(payload, meta.version, context),
    });
    await apply(delivered('OrderPlaced', stored), 'ctx');
    expect(seen).toHaveBeenCalledWith({ orderId: ORDER, items: [{ productId: PRODUCT, quantity: 2 }] }, 1, 'ctx');
  });

  it('refuses at the producer a payload its schema does not allow, before anything is stored', () => {
    expect(() =>
      // @ts-expect-error -- requested and available are required: the compiler refuses this too
      encode(inventoryStream, 'StockRejected', { orderId: ORDER, products: [{ productId: PRODUCT }] }),
    ).toThrow();
    expect(() =>
      // @ts-expect-error -- the stream declares no such event type
      encode(ordersStream, 'OrderShipped', { orderId: ORDER }),
    ).toThrow(/declares no event type/);
  });

  it('lets a v1 consumer read a v2 event that added a field (rolling deploy)', async () => {
    // The producer was deployed first with version 2 of OrderPlaced: an optional note per order.
    const ordersV2 = stream('orders', {
      ...ordersStream.events,
      OrderPlaced: event(2, ordersStream.events.OrderPlaced.schema.extend({ note: z.string().optional() })),
    });
    const stored = encode(ordersV2, 'OrderPlaced', {
      orderId: ORDER,
      items: [{ productId: PRODUCT, quantity: 1 }],
      note: 'leave at the door',
    });
    const seen = vi.fn();
    const v1 = consume<typeof ordersStream, null>(ordersStream, {
      OrderPlaced: async (payload, meta) => seen(payload, meta.version),
    });
    await v1(delivered('OrderPlaced', stored), null);
    // The old consumer keeps working: it reads the fields it knows and sees the newer version.
    expect(seen).toHaveBeenCalledWith({ orderId: ORDER, items: [{ productId: PRODUCT, quantity: 1 }] }, 2);
  });

  it('parks an event whose producer and consumer disagree on the payload, naming the field', async () => {
    // A producer that renamed orderId: its own schema accepts what it writes, the consumer's does not.
    const renamed = stream('inventory', { StockReserved: event(1, z.object({ order: z.guid() })) });
    const stored = encode(renamed, 'StockReserved', { order: ORDER });
    const handler = vi.fn();
    const apply = consume<typeof inventoryStream, null>(inventoryStream, { StockReserved: handler });
    const error = await unprocessable(apply(delivered('StockReserved', stored), null));
    expect(error.kind).toBe('invalid-payload');
    expect(error.reason).toMatch(/inventory\/StockReserved v1/);
    expect(error.reason).toMatch(/orderId/);
    expect(handler).not.toHaveBeenCalled();
  });

  it('gives a handler only the fields its schema declares', async () => {
    const apply = consume<typeof ordersStream, null>(ordersStream, {
      OrderCancelled: async (payload) => {
        // @ts-expect-error -- OrderCancelled carries no items: the compiler refuses to read them
        expect(payload.items).toBeUndefined();
      },
    });
    await apply(delivered('OrderCancelled', { orderId: ORDER, items: [] }), null);
  });

  it('parks an event type its stream does not declare', async () => {
    const apply = consume<typeof customersStream, null>(customersStream, { CustomerCreated: vi.fn() });
    const error = await unprocessable(apply(delivered('CustomerMerged', { customerId: ORDER }), null));
    expect(error.kind).toBe('unknown-type');
    expect(error.reason).toBe('stream customers declares no event type CustomerMerged');
  });

  it('skips, without parsing, a declared type the consumer has no handler for', async () => {
    const apply = consume<typeof inventoryStream, null>(inventoryStream, { StockReserved: vi.fn() });
    await expect(apply(delivered('StockSold', { not: 'checked' }), null)).resolves.toBeUndefined();
  });

  it('reads events stored before versions existed as version 1', async () => {
    const seen = vi.fn();
    const apply = consume<typeof customersStream, null>(customersStream, {
      CustomerCreated: async (payload, meta) => seen(payload, meta.version),
    });
    await apply(delivered('CustomerCreated', { customerId: ORDER }), null);
    expect(seen).toHaveBeenCalledWith({ customerId: ORDER }, 1);
  });
});
