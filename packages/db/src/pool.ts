import type { Logger } from '@stockgraph/logger';
import postgres, { type Options, type Sql } from 'postgres';

/** How long a ping waits for the pool's `select 1` before it reports no answer. */
const PING_TIMEOUT_MS = 1500;
/**
 * How long one `select 1` may wait in the pool, while the server answers a new connection at once,
 * before the pool counts as stuck. Far longer than any statement of ours runs, so a pool that is merely
 * busy gets through its queue first.
 */
const WEDGED_AFTER_MS = 20_000;

export interface RecyclablePool {
  /** Always the current pool: queries made through it go to whichever pool is in service. */
  client: Sql;
  /** `select 1` through the pool; replaces a pool that has stopped answering while the server has not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * A postgres.js pool that can be swapped for a fresh one. After a database restart, a postgres.js
 * connection can be left waiting for an answer to a query it never sent (seen here about once in thirty
 * restarts under write load, with patches/postgres@3.4.9.patch applied): every statement then queues
 * behind it for good. The readiness ping notices that (unanswered for WEDGED_AFTER_MS) and, when a new
 * connection to the same server answers at once, replaces the pool; the old one is cut, which fails
 * what was stuck in it instead of leaving it hanging.
 *
 * `prepare` runs on every new pool before use (Drizzle sets its type parsers on the client it wraps).
 */
export function openRecyclablePool(
  url: string,
  options: Options<Record<string, postgres.PostgresType>>,
  prepare: (client: Sql) => void,
  logger: Logger,
): RecyclablePool {
  const create = () => {
    const created = postgres(url, options);
    prepare(created);
    return created;
  };
  let current = create();
  /** The ping in flight: later pings wait for it rather than queue another `select 1` behind it. */
  let pending: { since: number; answer: Promise<unknown> } | undefined;
  let recycling = false;

  // Drizzle keeps the client it is given; this stand-in forwards every use to the pool in service.
  const client = new Proxy(current, {
    get: (_target, property) => Reflect.get(current, property),
    apply: (_target, self, args: unknown[]) => Reflect.apply(current, self, args),
  });

  const serverAnswers = async () => {
    const probe = postgres(url, { ...options, max: 1, connect_timeout: 5, idle_timeout: 1 });
    try {
      return (await withTimeout(probe`select 1`, PING_TIMEOUT_MS)) !== 'timeout';
    } catch {
      return false;
    } finally {
      void probe.end({ timeout: 0 });
    }
  };

  const recycle = async () => {
    recycling = true;
    try {
      if (!(await serverAnswers())) return;
      logger.warn(
        { unansweredMs: Date.now() - (pending?.since ?? Date.now()) },
        'database pool stopped answering while the server answers: replacing the pool',
      );
      const wedged = current;
      current = create();
      pending = undefined;
      void wedged.end({ timeout: 0 }).catch(() => undefined);
    } finally {
      recycling = false;
    }
  };

  return {
    client,
    ping: async () => {
      if (!pending) {
        const answer: Promise<unknown> = current`select 1`.finally(() => {
          if (pending?.answer === answer) pending = undefined;
        });
        pending = { since: Date.now(), answer };
      }
      const { since, answer } = pending;
      // An error is an answer too (the server is down or refusing): it reaches the caller as is.
      if ((await withTimeout(answer, PING_TIMEOUT_MS)) !== 'timeout') return;
      if (Date.now() - since >= WEDGED_AFTER_MS && !recycling) await recycle();
      throw new Error('database did not answer in time');
    },
    close: () => current.end({ timeout: 5 }),
  };
}
