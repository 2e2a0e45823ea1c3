import { describe, expect, it } from 'vitest';
import { endingMovements, inLockOrder } from './reservation.js';

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
