import { describe, expect, it } from 'vitest';
import { isUuidV7, newId } from './index.js';

describe('newId', () => {
  it('sorts ids made in one millisecond in the order they were made, given the time or not', () => {
    const at = new Date('2026-12-08T00:00:00.000Z');
    const given = Array.from({ length: 500 }, () => newId(at));
    expect([...given].sort()).toEqual(given);
    // Without a time the clock may tick between ids; the order still holds across the tick.
    const now = Array.from({ length: 500 }, () => newId());
    expect([...now].sort()).toEqual(now);
    expect([...given, ...now].every(isUuidV7)).toBe(true);
    expect(new Set(given).size).toBe(given.length);
  });

  it('embeds the time it is given, so the id names the partition of its row', () => {
    const at = new Date('2024-02-29T12:34:56.789Z');
    const id = newId(at);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at.getTime());
  });

  it('makes the same id from the same random bytes, for a reproducible seed', () => {
    const at = new Date('2025-01-01T00:00:00.000Z');
    const random = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
    expect(newId(at, random)).toBe(newId(at, random));
  });
});
