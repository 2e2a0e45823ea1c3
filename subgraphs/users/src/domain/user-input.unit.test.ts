import { describe, expect, it } from 'vitest';
import { normalizeEmail, validateName, validatePassword } from './user-input.js';

const refusal = (argument: string) =>
  expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', argument }) });

describe('normalizeEmail', () => {
  it('makes one account of an address however it is typed', () => {
    expect(normalizeEmail('  Ada.Lovelace@Example.COM ')).toBe('ada.lovelace@example.com');
  });

  it('refuses what is not an address, and overlong ones', () => {
    for (const email of ['', 'ada', 'ada@example', 'ada lovelace@example.com', '@example.com', 'a@b@c'])
      expect(() => normalizeEmail(email), email).toThrow(refusal('email'));
    expect(() => normalizeEmail(`${'a'.repeat(250)}@b.co`)).toThrow(refusal('email'));
  });
});

describe('validatePassword', () => {
  it('takes 10 to 256 characters, whatever they are', () => {
    expect(validatePassword('ten chars!')).toBe('ten chars!');
    expect(validatePassword('密'.repeat(256))).toHaveLength(256);
  });

  it('names the argument it refuses', () => {
    expect(() => validatePassword('too short')).toThrow(refusal('password'));
    expect(() => validatePassword('x'.repeat(257), 'newPassword')).toThrow(refusal('newPassword'));
  });
});

describe('validateName', () => {
  it('trims and takes 1 to 200 characters', () => {
    expect(validateName('  Ada ')).toBe('Ada');
    expect(() => validateName('   ')).toThrow(refusal('name'));
    expect(() => validateName('x'.repeat(201))).toThrow(refusal('name'));
  });
});
