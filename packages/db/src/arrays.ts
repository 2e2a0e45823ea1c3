/**
 * A Postgres array literal ('{"a","b"}') bound as one text parameter and cast in SQL
 * (`${textArray(ids)}::uuid[]`). Binding JS arrays through Drizzle behaves differently on postgres.js
 * and PGlite (and fails for timestamptz[] on postgres.js); one string parameter works on both.
 */
export function textArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

/** Rows in the order of `keys`, null where none matched: what a DataLoader batch function returns. */
export function inKeyOrder<T, K>(keys: readonly K[], rows: readonly T[], keyOf: (row: T) => K): (T | null)[] {
  const byKey = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => byKey.get(key) ?? null);
}
