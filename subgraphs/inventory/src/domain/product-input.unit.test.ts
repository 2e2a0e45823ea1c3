import { CodedError } from '@stockgraph/graphql-kit';
import { describe, expect, it } from 'vitest';
import { MAX_UNITS, money, text, units } from './product-input.js';

function refused(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    if (error instanceof CodedError && error.extensions.code === 'BAD_USER_INPUT') return error.message;
    throw error;
  }
  throw new Error('expected BAD_USER_INPUT');
}

describe('product input', () => {
  it('accepts prices with at most two decimals and refuses the rest', () => {
    expect(money('0', 'unitPrice')).toBe('0');
    expect(money('12.5', 'unitPrice')).toBe('12.5');
    expect(money(null, 'costPrice')).toBeNull();
    for (const bad of ['-1', '1.999', '1e3', 'abc', '12345678901'])
      expect(refused(() => money(bad, 'unitPrice'))).toMatch(/unitPrice/);
  });

  it('trims text, bounds its length and refuses a blank required value', () => {
    expect(text('  Widget  ', 'name', 200, true)).toBe('Widget');
    expect(text(undefined, 'name', 200, true)).toBeUndefined();
    expect(refused(() => text('   ', 'name', 200, true))).toMatch(/name/);
    expect(refused(() => text(null, 'name', 200, true))).toMatch(/cannot be null/);
    expect(refused(() => text('x'.repeat(201), 'name', 200))).toMatch(/1 to 200/);
  });

  it('takes whole non-zero units within bounds, negative only for adjustments', () => {
    expect(units(3, 'quantity')).toBe(3);
    expect(units(-3, 'delta', true)).toBe(-3);
    for (const bad of [0, -1, 1.5, MAX_UNITS + 1]) expect(refused(() => units(bad, 'quantity'))).toMatch(/quantity/);
  });
});
