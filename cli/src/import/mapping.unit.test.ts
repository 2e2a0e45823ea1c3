/**
 * The legacy import's value mappings on their own: money to the cent, shop-local times to instants,
 * the vocabularies, contact fields and ids. Each case is a decision docs/operators/migration.md (mapping table)
 * documents; before these, only spawning the CLI on a whole file exercised them.
 */
import { describe, expect, it } from 'vitest';
import {
  centsToDecimal,
  createTimeParser,
  legacyUuid,
  mapCustomerEmail,
  mapPhone,
  mapReason,
  mapRole,
  mapStatus,
  mapUserEmail,
  skuKey,
  toCents,
  weightedUnitCents,
} from './mapping.js';

describe('money', () => {
  it('rounds half up from the shortest decimal the old UI showed, never from the binary float', () => {
    expect(toCents(19.9)).toBe(1990); // stored as 19.899999999999998578…
    expect(toCents(2.675)).toBe(268); // 2.67499999999999982236431605997495353221893310546875 in binary
    expect(toCents(1.005)).toBe(101);
    expect(toCents(0.1 + 0.2)).toBe(30); // 0.30000000000000004
    expect(toCents(-2.675)).toBe(-268);
    expect(toCents(0)).toBe(0);
    expect(toCents(1234567.891)).toBe(123456789);
  });

  it('reads exponent notation, and has no cents for what is not a finite number', () => {
    expect(toCents(1e-7)).toBe(0);
    expect(toCents(5e-3)).toBe(1);
    expect(toCents(1e21)).toBe(1e23);
    expect(toCents(Number.NaN)).toBeNull();
    expect(toCents(Number.POSITIVE_INFINITY)).toBeNull();
  });

  it('writes cents as a Decimal string, sign and two places', () => {
    expect(centsToDecimal(1990)).toBe('19.90');
    expect(centsToDecimal(5)).toBe('0.05');
    expect(centsToDecimal(-105)).toBe('-1.05');
    expect(centsToDecimal(0)).toBe('0.00');
  });

  it('merges repeated lines at a weighted unit price, half up, while the line total stays exact', () => {
    // 2 × 3.00 + 5 × 4.00 = 26.00 over 7 units: 3.714… → 3.71.
    expect(weightedUnitCents(2600, 7)).toBe(371);
    // Equal legacy prices come back unchanged.
    expect(weightedUnitCents(3 * 1999, 3)).toBe(1999);
    // Exactly half a cent rounds up: 0.05 over 2 units is 0.025 → 0.03.
    expect(weightedUnitCents(5, 2)).toBe(3);
  });
});

describe('shop-local times', () => {
  it('reads both legacy formats in the shop’s zone', () => {
    const shanghai = createTimeParser('Asia/Shanghai');
    expect(shanghai('2024-03-01 08:30:15')?.toISOString()).toBe('2024-03-01T00:30:15.000Z');
    expect(shanghai('2024/03/01 08:30')?.toISOString()).toBe('2024-03-01T00:30:00.000Z');
  });

  it('has no instant for empty, zero, impossible or other-format values (the caller quarantines)', () => {
    const parse = createTimeParser('UTC');
    for (const bad of [
      null,
      '',
      '0000-00-00 00:00:00',
      '2024-02-30 10:00:00',
      '2024-13-01 10:00:00',
      '2024-01-01 24:00:00',
      '1969-12-31 23:59:59',
      '2024-01-01T10:00:00Z',
      '01/02/2024 10:00',
    ])
      expect(parse(bad), String(bad)).toBeNull();
    expect(parse('2024-02-29 10:00:00')?.toISOString()).toBe('2024-02-29T10:00:00.000Z');
  });

  it('gives a local time that a DST change skipped or repeated the offset in force before the change', () => {
    const berlin = createTimeParser('Europe/Berlin');
    // Summer time began 2026-03-29 at 02:00 (+01:00 → +02:00): 02:30 never happened.
    expect(berlin('2026-03-29 02:30:00')?.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(berlin('2026-03-29 03:30:00')?.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    // It ended 2026-10-25 at 03:00 (+02:00 → +01:00): 02:30 happened twice, the first is taken.
    expect(berlin('2026-10-25 02:30:00')?.toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(berlin('2026-10-25 04:00:00')?.toISOString()).toBe('2026-10-25T03:00:00.000Z');
  });
});

describe('vocabularies and contact fields', () => {
  it('maps statuses, roles and reasons whatever their case and spaces, and nothing else', () => {
    expect(mapStatus(' Paid ')).toBe('FULFILLED');
    expect(mapStatus('refunded')).toBe('CANCELLED');
    expect(mapStatus('pending')).toBe('PENDING');
    expect(mapStatus('lost')).toBeNull();
    expect(mapRole('CLERK')).toBe('STAFF');
    expect(mapRole('readonly')).toBe('VIEWER');
    expect(mapRole('root')).toBeNull();
    expect(mapReason('stocktake')).toBe('ADJUSTMENT');
    expect(mapReason(' Purchase')).toBe('RECEIPT');
    expect(mapReason('theft')).toBeNull();
  });

  it('keeps phones as + and digits, and says when one is malformed rather than absent', () => {
    expect(mapPhone('+86 (138) 0013-8000')).toEqual({ phone: '+8613800138000', malformed: false });
    expect(mapPhone('   ')).toEqual({ phone: null, malformed: false });
    expect(mapPhone(null)).toEqual({ phone: null, malformed: false });
    expect(mapPhone('call me')).toEqual({ phone: null, malformed: true });
    expect(mapPhone('12345')).toEqual({ phone: null, malformed: true });
  });

  it('lower-cases users’ sign-in emails, keeps customers’ as typed, and tells malformed from absent', () => {
    expect(mapUserEmail(' Ann@Shop.example ')).toBe('ann@shop.example');
    expect(mapUserEmail('ann@shop')).toBeNull();
    expect(mapCustomerEmail(' Bo@Mail.example ')).toEqual({ email: 'Bo@Mail.example', malformed: false });
    expect(mapCustomerEmail('')).toEqual({ email: null, malformed: false });
    expect(mapCustomerEmail('bo at mail')).toEqual({ email: null, malformed: true });
  });

  it('treats SKUs differing only in case or surrounding spaces as one', () => {
    expect(skuKey(' ab-100 ')).toBe(skuKey('AB-100'));
    expect(skuKey('AB-100')).not.toBe(skuKey('AB-1000'));
  });
});

describe('ids', () => {
  const salt = Uint8Array.from([0xab, 0xcd, 0xef]);
  const at = new Date('2025-06-15T12:00:00.000Z');

  it('are UUIDv7 carrying the row’s time, the same for the same row and salt (a re-run finds them)', () => {
    const id = legacyUuid(at, 'orders', 15, salt);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(legacyUuid(at, 'orders', 15, salt)).toBe(id);
    expect(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(at.getTime());
    expect(Number.parseInt(id.slice(-12), 16)).toBe(15);
  });

  it('differ by table, legacy id and salt, and sort by time', () => {
    const id = legacyUuid(at, 'orders', 15, salt);
    expect(legacyUuid(at, 'customers', 15, salt)).not.toBe(id);
    expect(legacyUuid(at, 'orders', 16, salt)).not.toBe(id);
    expect(legacyUuid(at, 'orders', 15, Uint8Array.from([1, 2, 3]))).not.toBe(id);
    expect(legacyUuid(new Date(at.getTime() + 1), 'orders', 1, salt) > id).toBe(true);
  });
});
