import type { Sql } from 'postgres';

export interface PoolUsage {
  /** Statements outside transactions plus open transactions: each holds a connection or waits for one. */
  inFlight: number;
  max: number;
}

/**
 * postgres.js keeps its connection queues private, so pool saturation is counted where work enters the
 * pool instead: Drizzle sends every statement outside a transaction through `client.unsafe` and opens
 * every transaction with `client.begin` (statements inside a transaction use the transaction's own
 * client, on the connection the transaction already holds). Each of those holds one connection, or
 * queues for one, until it settles.
 */
export function countPoolUsage(client: Sql, max: number): { client: Sql; usage: () => PoolUsage } {
  let inFlight = 0;
  const settle = () => {
    inFlight--;
  };
  const track = <T extends PromiseLike<unknown>>(work: T): T => {
    inFlight++;
    work.then(settle, settle);
    return work;
  };
  const counted = new Proxy(client, {
    get(target, property, receiver) {
      // postgres.js starts a query one microtask after it is first awaited, so Drizzle's `.values()`
      // right after `unsafe()` still applies.
      if (property === 'unsafe') return (...args: Parameters<Sql['unsafe']>) => track(target.unsafe(...args));
      if (property === 'begin')
        return (...args: unknown[]) => track((target.begin as (...a: unknown[]) => Promise<unknown>)(...args));
      return Reflect.get(target, property, receiver);
    },
  });
  return { client: counted, usage: () => ({ inFlight, max }) };
}
