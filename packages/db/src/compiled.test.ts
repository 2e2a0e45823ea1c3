import { createLogger } from '@stockgraph/logger';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { compiled } from './compiled.js';
import { openDatabase, rowsOf, type DatabaseHandle } from './database.js';

/** The machine's PostgreSQL, as in packages/testkit. */
const TEST_SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const logger = createLogger('compiled-test', 'silent');

const handles: DatabaseHandle<Record<string, never>>[] = [];
afterAll(() => Promise.all(handles.map((h) => h.close())));

describe.each([
  // Reads only, so the shared server's own database will do.
  ['PostgreSQL', () => openDatabase({ url: TEST_SERVER_URL, poolMax: 2, schema: {}, logger })],
  ['PGlite', () => openDatabase({ schema: {}, logger })],
])('a compiled statement on %s', (_driver, open) => {
  it('renders its text once and sends each call its own values, a value repeated and inside a transaction too', async () => {
    const handle = await open();
    handles.push(handle);
    let renders = 0;
    const statement = compiled(['word', 'times'], (v) => {
      renders++;
      return sql`select repeat(${v.word}::text, ${v.times}::int) as repeated, ${v.word}::text || '!' as shout`;
    });
    const first = rowsOf<{ repeated: string; shout: string }>(await statement(handle.db, { word: 'ab', times: 3 }));
    const second = await handle.db.transaction(async (tx) =>
      rowsOf<{ repeated: string; shout: string }>(await statement(tx, { word: 'xyz', times: 2 })),
    );
    expect(first).toEqual([{ repeated: 'ababab', shout: 'ab!' }]);
    expect(second).toEqual([{ repeated: 'xyzxyz', shout: 'xyz!' }]);
    // A value is never part of the text: quotes reach the database as data.
    expect(rowsOf(await statement(handle.db, { word: "'; drop table x; --", times: 1 }))).toEqual([
      { repeated: "'; drop table x; --", shout: "'; drop table x; --!" },
    ]);
    expect(renders).toBe(1);
  });
});
