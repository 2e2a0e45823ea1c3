import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { post, ROOT, startStack } from '@stockgraph/testkit';
import { REDIS_URL } from '@stockgraph/testkit/saga';
import { databaseName } from './database.js';
import { DEEP_CURSOR_QUERY, type Operation } from './operations.js';

export interface Timing {
  operation: Operation;
  p50: number;
  p95: number;
  max: number;
  /** Runs that answered with errors, and the first error's code and message. */
  errors: number;
  error?: string;
  /** Partitions scanned by one run, per partitioned table. */
  partitions?: Record<string, number>;
}

/** Whether the inventory code on this checkout reads the cache toggle at all (it lands on another branch). */
function inventoryReadsCacheSetting() {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
    );
  return walk(path.join(ROOT, 'subgraphs/inventory/src')).some((f) =>
    readFileSync(f, 'utf8').includes('CATALOGUE_CACHE_TTL_MS'),
  );
}

/**
 * The four subgraphs and the gateway as processes on the bench database (nothing seeded, nothing
 * dropped on stop), Redis under a prefix of the run's own, signed in as the generated manager.
 */
export async function startScaleStack(url: string, prefix: string, manager: string, env: Record<string, string>) {
  const stack = await startStack({
    database: { url, name: databaseName(url), drop: async () => {} },
    env: {
      SEED_DEMO_DATA: 'false',
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      EVENTS_PREFIX: prefix,
      // One sign-in serves the whole run, which at 10M orders outlasts the default token lifetime.
      ACCESS_TOKEN_TTL_SECONDS: '3600',
      // The saga's sweep of stale PENDING orders scans every orders partition: it would blur what each
      // timed operation scanned. No order stays PENDING in the generated data anyway.
      SAGA_RETRY_MS: '3600000',
      // One user times thousands of operations: the gateway's per-user budget would refuse them.
      RATE_LIMIT_POINTS: '1000000000',
      ...env,
    },
  });
  try {
    const signIn = async () => ({ authorization: `Bearer ${(await stack.login(manager)).accessToken}` });
    let headers = await signIn();
    const post1 = (operation: Pick<Operation, 'query' | 'variables' | 'operationName'>) =>
      post(
        stack.gateway.url,
        { query: operation.query, variables: operation.variables, operationName: operation.operationName },
        headers,
      );
    // A run longer than the token's lifetime signs in again rather than timing refusals.
    const send = async (operation: Pick<Operation, 'query' | 'variables' | 'operationName'>) => {
      const result = await post1(operation);
      if (result.errors?.[0]?.extensions?.reason !== 'TOKEN_EXPIRED') return result;
      headers = await signIn();
      return post1(operation);
    };
    return {
      cacheSetting: inventoryReadsCacheSetting(),
      send,
      /** One run; throws on errors, for the partition probe. */
      async run(operation: Operation) {
        const result = await send(operation);
        if (result.errors?.length) throw new Error(`${operation.name}: ${JSON.stringify(result.errors[0])}`);
        return result;
      },
      /** A cursor just after the order half-way through history (UUIDv7: its time is its first 48 bits). */
      async deepCursor(orderId: string) {
        const at = new Date(Number.parseInt(orderId.replace(/-/g, '').slice(0, 12), 16) + 1).toISOString();
        const result = await send({ query: DEEP_CURSOR_QUERY, variables: { to: at } });
        const cursor = result.data?.orders?.edges?.[0]?.cursor as string | undefined;
        if (!cursor) throw new Error(`no deep cursor: ${JSON.stringify(result.errors)}`);
        return cursor;
      },
      stop: () => stack.stop(),
    };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

type ScaleStack = Awaited<ReturnType<typeof startScaleStack>>;

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

/**
 * Warm-up runs of every operation, then `runs` rounds that go through all operations in turn, so a
 * burst of load from elsewhere on a shared machine spreads over all of them rather than one.
 */
export async function timeOperations(
  stack: ScaleStack,
  ops: Operation[],
  { runs, warmup, say }: { runs: number; warmup: number; say: (line: string) => void },
): Promise<Timing[]> {
  const times = ops.map(() => [] as number[]);
  const failures = ops.map(() => ({ errors: 0, error: undefined as string | undefined }));
  const once = async (i: number) => {
    const started = performance.now();
    const result = await stack.send(ops[i]!);
    const ms = performance.now() - started;
    if (result.errors?.length || result.status !== 200) {
      failures[i]!.errors++;
      const e = result.errors?.[0];
      failures[i]!.error ??= `${e?.extensions?.code ?? result.status}: ${e?.message ?? ''}`;
    }
    return ms;
  };
  for (let w = 0; w < warmup; w++) for (let i = 0; i < ops.length; i++) await once(i);
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < ops.length; i++) times[i]!.push(await once(i));
    say(`round ${r + 1}/${runs}`);
  }
  return ops.map((operation, i) => {
    const sorted = times[i]!.sort((a, b) => a - b);
    return {
      operation,
      p50: quantile(sorted, 0.5),
      p95: quantile(sorted, 0.95),
      max: sorted.at(-1)!,
      ...failures[i]!,
    };
  });
}
