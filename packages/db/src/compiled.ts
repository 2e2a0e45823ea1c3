import { sql, type Placeholder, type Query, type SQL } from 'drizzle-orm';
import type { PgDatabase } from 'drizzle-orm/pg-core';

/** The two parts of a drizzle database (or transaction) a compiled statement needs; public in JS, internal in its types. */
interface Internals {
  dialect: { sqlToQuery(sql: SQL): Query };
  session: {
    prepareQuery(
      query: Query,
      fields: undefined,
      name: undefined,
      isResponseInArrayMode: boolean,
    ): { execute(values: Record<string, unknown>): Promise<unknown> };
  };
}

/** Drizzle's own `execute` uses these two; a future drizzle without them fails here, loudly, on first use. */
function internalsOf(db: object): Internals {
  if (!('dialect' in db && 'session' in db))
    throw new Error('a compiled statement needs a drizzle database or transaction');
  return db as Internals;
}

// Any drizzle PostgreSQL database or transaction, whatever its driver (postgres.js, PGlite) and schema.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDatabase = PgDatabase<any, any, any>;

/**
 * A statement whose text drizzle renders once, on its first use, and which each call then sends with
 * its values alone. `db.execute(sql\`…\`)` walks the template's chunks and checks each one's kind on
 * every call: for the order path's statements (a dozen CTEs and twenty parameters) that was 10–15% of
 * the orders and inventory services' CPU under load (issue 25). `render` receives a placeholder per
 * name and must build the same text every time: values go through the placeholders, never into the
 * template. The result is what `db.execute` returns (read it with `rowsOf`).
 */
export function compiled<K extends string>(
  names: readonly K[],
  render: (values: Record<K, Placeholder>) => SQL,
): (db: AnyDatabase, values: Record<K, unknown>) => Promise<unknown> {
  let query: Query | undefined;
  return (db, values) => {
    const { dialect, session } = internalsOf(db);
    // The PostgreSQL dialect renders the same text for every driver, so one rendering serves them all.
    if (!query) {
      const placeholders = {} as Record<K, Placeholder>;
      for (const name of names) placeholders[name] = sql.placeholder(name);
      query = dialect.sqlToQuery(render(placeholders));
    }
    return session.prepareQuery(query, undefined, undefined, false).execute(values);
  };
}
