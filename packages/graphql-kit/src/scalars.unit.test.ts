import { Kind } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DateTimeScalar, DecimalScalar } from './scalars.js';

describe('Decimal', () => {
  it('accepts exact decimal strings and keeps them as written', () => {
    for (const value of ['0', '19.90', '-3.5', '1234567890123456789012345678.0123456789'])
      expect(DecimalScalar.parseValue(value)).toBe(value);
    expect(DecimalScalar.parseLiteral({ kind: Kind.STRING, value: '0.10' })).toBe('0.10');
  });

  it('refuses floats, exponents and malformed strings with BAD_USER_INPUT', () => {
    for (const value of [19.9, '1e3', '1.', '.5', '1,5', ' 1', '1.12345678901', 'NaN'])
      expect(() => DecimalScalar.parseValue(value), String(value)).toThrow(
        expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
      );
    expect(() => DecimalScalar.parseLiteral({ kind: Kind.FLOAT, value: '19.9' })).toThrow();
  });

  it('serialises database numerics as strings, never as floats', () => {
    expect(DecimalScalar.serialize('19.90')).toBe('19.90');
    expect(DecimalScalar.serialize(12n)).toBe('12');
    expect(() => DecimalScalar.serialize(Number.NaN)).toThrow(TypeError);
  });
});

describe('DateTime', () => {
  it('needs an offset when a time is given, and a year from 1000 to 9999', () => {
    expect(DateTimeScalar.parseValue('2026-11-27T08:00:00Z')).toEqual(new Date('2026-11-27T08:00:00Z'));
    expect(DateTimeScalar.parseValue('2026-11-27')).toEqual(new Date('2026-11-27T00:00:00Z'));
    for (const value of ['2026-11-27T08:00', '0999-01-01', 'yesterday', 1_700_000_000_000])
      expect(() => DateTimeScalar.parseValue(value), String(value)).toThrow();
  });

  it('serialises in UTC', () => {
    expect(DateTimeScalar.serialize(new Date('2026-11-27T10:00:00+02:00'))).toBe('2026-11-27T08:00:00.000Z');
  });
});
