import { CodedError } from '@stockgraph/graphql-kit';
import { describe, expect, it } from 'vitest';
import { MAX_LINES, MAX_QUANTITY, validateOrder, type PlaceOrderInput } from './order-input.js';

const A = '0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B';
const B = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5a';
const CUSTOMER = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a00';
const KEY = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4aff';

const input = (items: PlaceOrderInput['items'], customerId = CUSTOMER): PlaceOrderInput => ({
  customerId,
  items,
  idempotencyKey: KEY,
});

function refusal(work: () => unknown): { code: unknown; message: string } {
  try {
    work();
  } catch (error) {
    if (error instanceof CodedError) return { code: error.extensions.code, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('validateOrder', () => {
  it('puts an order in one canonical form, so a reordered retry is the same request', () => {
    const one = validateOrder(
      input([
        { productId: A, quantity: 1 },
        { productId: B, quantity: 2 },
      ]),
    );
    const other = validateOrder(
      input([
        { productId: B, quantity: 2 },
        { productId: A.toLowerCase(), quantity: 1 },
      ]),
    );
    expect(one).toEqual(other);
    expect(one.items.map((i) => i.productId)).toEqual([B, A.toLowerCase()]);
  });

  it('refuses an empty order, too many lines and a product twice', () => {
    expect(refusal(() => validateOrder(input([])))).toMatchObject({ code: 'BAD_USER_INPUT' });
    const many = Array.from({ length: MAX_LINES + 1 }, (_, i) => ({
      productId: `0190a1b2-c3d4-7e5f-8a9b-${String(i).padStart(12, '0')}`,
      quantity: 1,
    }));
    expect(refusal(() => validateOrder(input(many))).message).toMatch(`at most ${MAX_LINES}`);
    const twice = input([
      { productId: A, quantity: 1 },
      { productId: A.toLowerCase(), quantity: 1 },
    ]);
    expect(refusal(() => validateOrder(twice)).message).toMatch(/appears twice/);
  });

  it('refuses quantities that are not whole, positive and bounded', () => {
    for (const quantity of [0, -1, 1.5, MAX_QUANTITY + 1])
      expect(refusal(() => validateOrder(input([{ productId: A, quantity }]))).message).toMatch(/quantity/);
    expect(validateOrder(input([{ productId: A, quantity: MAX_QUANTITY }])).items).toHaveLength(1);
  });

  it('refuses ids that are not UUIDs and a missing idempotency key', () => {
    expect(refusal(() => validateOrder(input([{ productId: A, quantity: 1 }], 'nope'))).message).toMatch(/customerId/);
    expect(refusal(() => validateOrder(input([{ productId: 'x', quantity: 1 }]))).message).toMatch(/productId/);
    expect(refusal(() => validateOrder({ ...input([{ productId: A, quantity: 1 }]), idempotencyKey: '' })).code).toBe(
      'BAD_USER_INPUT',
    );
  });
});
