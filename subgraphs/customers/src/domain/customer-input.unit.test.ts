import { describe, expect, it } from 'vitest';
import { customerFields, normalizePhone, phoneQuery, searchTerm } from './customer-input.js';

const refusal = (argument: string) =>
  expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', argument }) });

describe('customerFields', () => {
  it('trims text and stores the phone normalised', () => {
    expect(customerFields({ name: '  Li Wei ', phone: '+86 138-0000 0000', email: ' li@example.com ' })).toEqual({
      name: 'Li Wei',
      phone: '+8613800000000',
      email: 'li@example.com',
    });
  });

  it('leaves out what was not given and clears optional fields given as null or blank', () => {
    expect(customerFields({})).toEqual({});
    expect(customerFields({ phone: null, email: '  ', address: '', notes: null })).toEqual({
      phone: null,
      email: null,
      address: null,
      notes: null,
    });
  });

  it('refuses a missing or blank name', () => {
    expect(() => customerFields({ name: null })).toThrow(refusal('name'));
    expect(() => customerFields({ name: '   ' })).toThrow(refusal('name'));
  });

  it('refuses malformed emails and phones', () => {
    for (const email of ['no-at-sign', 'a@b', 'a b@c.d', '@example.com'])
      expect(() => customerFields({ email }), email).toThrow(refusal('email'));
    for (const phone of ['1234', '12-34', '+1 555 123 4567 8901 2345 67', '++123456'])
      expect(() => customerFields({ phone }), phone).toThrow(refusal('phone'));
    expect(customerFields({ phone: 'ext.' })).toEqual({ phone: null });
  });

  it('bounds every field', () => {
    expect(() => customerFields({ name: 'x'.repeat(201) })).toThrow(refusal('name'));
    expect(() => customerFields({ notes: 'x'.repeat(2001) })).toThrow(refusal('notes'));
    expect(customerFields({ notes: 'x'.repeat(2000) }).notes).toHaveLength(2000);
  });
});

describe('looking customers up', () => {
  it('matches a phone however it is formatted', () => {
    expect(normalizePhone('+86 (138) 0000-0000')).toBe('+8613800000000');
    expect(phoneQuery('138 0000 0000')).toBe('13800000000');
    expect(() => phoneQuery('no digits')).toThrow(refusal('phone'));
    expect(() => phoneQuery('1'.repeat(65))).toThrow(refusal('phone'));
  });

  it('bounds a search term', () => {
    expect(searchTerm(undefined)).toBeNull();
    expect(searchTerm('wei')).toBe('wei');
    expect(() => searchTerm('x'.repeat(201))).toThrow(refusal('search'));
  });
});
