import { describe, expect, it } from 'vitest';
import { endingMovements, inLockOrder, shortfall } from './reservation.js';

describe('reservation decisions', () => {
  it('locks products in one order whatever order the lines came in', () => {
    const lines = [
      { productId: 'c', quantity: 1 },
      { productId: 'a', quantity: 2 },
      { productId: 'b', quantity: 3 },
    ];
    expect(inLockOrder(lines).map((l) => l.productId)).toEqual(['a', 'b', 'c']);
    expect(lines[0]!.productId).toBe('c');
  });

  it('names exactly the lines stock cannot cover, with what is available', () => {
    const lines = [
      { productId: 'a', quantity: 5 },
      { productId: 'b', quantity: 2 },
      { productId: 'gone', quantity: 1 },
    ];
    const available = new Map([
      ['a', 4],
      ['b', 2],
    ]);
    expect(shortfall(lines, available)).toEqual([
      { productId: 'a', requested: 5, available: 4 },
      { productId: 'gone', requested: 1, available: 0 },
    ]);
  });

  it('never reports negative availability', () => {
    expect(shortfall([{ productId: 'a', quantity: 1 }], new Map([['a', -3]]))).toEqual([
      { productId: 'a', requested: 1, available: 0 },
    ]);
  });

  it('releases a cancelled reservation, and also sells a fulfilled one', () => {
    const lines = [{ productId: 'a', quantity: 2 }];
    expect(endingMovements(lines, 'o', false)).toEqual([
      { productId: 'a', delta: -2, reason: 'RELEASE', orderId: 'o' },
    ]);
    expect(endingMovements(lines, 'o', true)).toEqual([
      { productId: 'a', delta: -2, reason: 'RELEASE', orderId: 'o' },
      { productId: 'a', delta: -2, reason: 'SALE', orderId: 'o' },
    ]);
  });
});
