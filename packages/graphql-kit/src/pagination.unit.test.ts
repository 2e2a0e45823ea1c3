import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, MAX_PAGE_SIZE, toConnection, toPage } from './pagination.js';

const badInput = { extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) };

describe('cursors', () => {
  it('round-trip their keyset values, unicode included', () => {
    const values = ['Zoë 张', '0190b3c4-0000-7000-8000-000000000000'];
    expect(decodeCursor(encodeCursor(values), 2)).toEqual(values);
  });

  it('refuse anything they could not have been', () => {
    const forged = [
      '',
      'not a cursor!',
      'x'.repeat(513),
      Buffer.from('{"a":1}').toString('base64url'),
      encodeCursor(['only-one']),
      Buffer.from(JSON.stringify(['a', 1])).toString('base64url'),
      encodeCursor(['nul\u0000', 'b']),
      encodeCursor(['x'.repeat(401), 'b']),
    ];
    for (const cursor of forged)
      expect(() => decodeCursor(cursor, 2), cursor).toThrow(expect.objectContaining(badInput));
  });
});

describe('toPage', () => {
  it('defaults to 20 and bounds first to 1..100', () => {
    expect(toPage({}, 1)).toEqual({ limit: 20, after: null });
    expect(toPage({ first: MAX_PAGE_SIZE }, 1).limit).toBe(100);
    for (const first of [0, -1, 101, 1.5])
      expect(() => toPage({ first }, 1), String(first)).toThrow(expect.objectContaining(badInput));
  });

  it('runs the caller’s key check on a decoded cursor', () => {
    const after = encodeCursor(['name', 'not-a-uuid']);
    expect(() => toPage({ after }, 2, ([, id]) => id === 'uuid')).toThrow(expect.objectContaining(badInput));
    expect(toPage({ after }, 2, () => true).after).toEqual(['name', 'not-a-uuid']);
  });
});

describe('toConnection', () => {
  it('uses the extra row only to say there is a next page', () => {
    const page = toPage({ first: 2 }, 1);
    const connection = toConnection(['a', 'b', 'c'], page, (row) => [row]);
    expect(connection.edges.map((e) => e.node)).toEqual(['a', 'b']);
    expect(connection.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(decodeCursor(connection.pageInfo.endCursor!, 1)).toEqual(['b']);
  });

  it('answers an empty page with null cursors', () => {
    const connection = toConnection([], toPage({ after: encodeCursor(['z']) }, 1), (row: string) => [row]);
    expect(connection.pageInfo).toEqual({
      hasNextPage: false,
      hasPreviousPage: true,
      startCursor: null,
      endCursor: null,
    });
  });
});
