import type { Sql } from 'postgres';

type Unsafe = (query: string, params?: unknown[], options?: { prepare?: boolean }) => unknown;
type WithClient = (...args: unknown[]) => unknown;

/**
 * Drizzle hands postgres.js every statement with `prepare: false`, unless the query was given a name.
 * postgres.js then sends each statement with parameters as an unnamed one: Parse and Describe, a wait
 * for the parameter types, then Bind and Execute — two round trips — and PostgreSQL plans it afresh
 * every time. Measured on the order path (issue 25): a third of the orders service's CPU went to those
 * socket writes and up to 4 ms of planning per statement. Marked as prepared, postgres.js names each
 * statement once per connection and sends it in one round trip from then on, and PostgreSQL may keep
 * its plan.
 *
 * This client does that for every statement with parameters, in transactions and savepoints too (their
 * clients come from `begin` and `savepoint`). A statement without parameters keeps the simple protocol.
 * Behind a pooler that cannot carry named statements across transactions (PgBouncer before 1.21 in
 * transaction mode) turn it off with DATABASE_PREPARED_STATEMENTS=false.
 */
export function preparedStatements(client: Sql): Sql {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        const unsafe = target.unsafe.bind(target) as Unsafe;
        return (query: string, params?: unknown[], options?: { prepare?: boolean }) =>
          params && params.length > 0
            ? unsafe(query, params, { ...options, prepare: true })
            : unsafe(query, params, options);
      }
      if (property === 'begin' || property === 'savepoint') {
        const open = (Reflect.get(target, property) as WithClient).bind(target);
        // The work is the last argument (`begin(fn)` or `begin(options, fn)`): it gets a wrapped client.
        return (...args: unknown[]) => {
          const work = args.at(-1);
          if (typeof work !== 'function') return open(...args);
          return open(...args.slice(0, -1), (tx: Sql) => (work as (tx: Sql) => unknown)(preparedStatements(tx)));
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}
