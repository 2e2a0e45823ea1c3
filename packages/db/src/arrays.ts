/**
 * A Postgres array literal ('{"a","b"}') bound as one text parameter and cast in SQL
 * (`${textArray(ids)}::uuid[]`). Binding JS arrays through Drizzle behaves differently on postgres.js
 * and PGlite (and fails for timestamptz[] on postgres.js); one string parameter works on both.
 */
export function textArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}
