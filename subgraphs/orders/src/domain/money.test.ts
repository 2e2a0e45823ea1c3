import { describe, expect, it } from 'vitest';
import { centsOf, decimalOf, lineTotal, sum } from './money.js';

describe('money', () => {
  it('reads decimals of zero, one and two places as exact cents', () => {
    expect(centsOf('12')).toBe(1200n);
    expect(centsOf('12.5')).toBe(1250n);
    expect(centsOf('12.05')).toBe(1205n);
    expect(centsOf('0.99')).toBe(99n);
    expect(centsOf('-3.10')).toBe(-310n);
  });

  it('writes cents with two places, signs included', () => {
    expect(decimalOf(0n)).toBe('0.00');
    expect(decimalOf(5n)).toBe('0.05');
    expect(decimalOf(123456n)).toBe('1234.56');
    expect(decimalOf(-250n)).toBe('-2.50');
  });

  it('multiplies and sums without floating-point error', () => {
    expect(lineTotal('0.10', 3)).toBe('0.30'); // 0.1 * 3 is 0.30000000000000004 in floating point
    expect(lineTotal('19.99', 10_000)).toBe('199900.00');
    expect(sum(['0.10', '0.20'])).toBe('0.30');
    expect(sum([])).toBe('0.00');
  });

  it('keeps totals exact beyond the range of a double', () => {
    expect(lineTotal('9999999999.99', 10_000)).toBe('99999999999900.00');
  });
});
