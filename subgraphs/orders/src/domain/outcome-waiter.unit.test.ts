import { describe, expect, it } from 'vitest';
import { parseOutcomeNotice } from '../db/order-writer.repository.js';
import { OutcomeWaiter } from './outcome-waiter.js';

describe('OutcomeWaiter', () => {
  it('wakes every call waiting for an order when its outcome is announced, and only those', async () => {
    const waiter = new OutcomeWaiter();
    const woken: string[] = [];
    const a1 = waiter.wait('a', 60_000).then(() => woken.push('a1'));
    const a2 = waiter.wait('a', 60_000).then(() => woken.push('a2'));
    void waiter.wait('b', 60_000).then(() => woken.push('b'));
    waiter.announce('a');
    await Promise.all([a1, a2]);
    expect(woken.sort()).toEqual(['a1', 'a2']);
    expect(waiter.size).toBe(1);
    waiter.announce('b');
  });

  it('hands the decided order to the waiting call, so it need not read it again', async () => {
    const waiter = new OutcomeWaiter();
    const order = { id: 'a', status: 'CONFIRMED' as const };
    const waiting = waiter.wait('a', 60_000);
    waiter.announce('a', order);
    expect(await waiting).toBe(order);
  });

  it('gives up after the bounded wait when no outcome comes', async () => {
    const waiter = new OutcomeWaiter();
    expect(await waiter.wait('never', 5)).toBeUndefined();
    expect(waiter.size).toBe(0);
  });

  it('ignores an announcement nobody waits for', () => {
    expect(() => new OutcomeWaiter().announce('nobody')).not.toThrow();
  });
});

describe('outcome notifications', () => {
  it('carry the decision, so the replica whose call waits need not read the order again', () => {
    const rejection = { code: 'INSUFFICIENT_STOCK' as const, products: [] };
    expect(
      parseOutcomeNotice(
        JSON.stringify({ id: 'a', status: 'REJECTED', updatedAt: '2026-12-06T10:00:00.5+00:00', rejection }),
      ),
    ).toEqual({ id: 'a', status: 'REJECTED', updatedAt: new Date('2026-12-06T10:00:00.500Z'), rejection });
  });

  it('still wake the call when an earlier version sent the bare order id', () => {
    expect(parseOutcomeNotice('0190b3c4-0000-7000-8000-000000000001')).toEqual({
      id: '0190b3c4-0000-7000-8000-000000000001',
    });
  });
});
