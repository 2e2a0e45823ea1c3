import { randomUUID } from 'node:crypto';
import {
  graphql,
  killProcess,
  restartProcess,
  run,
  startOwnPostgres,
  type OwnPostgres,
  type ServiceProcess,
  type Stack,
  type SubgraphName,
} from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  finalStatuses,
  PLACE,
  productWithStock,
  startOwnRedis,
  startSagaStack,
  stockOf,
  demo,
} from '@stockgraph/testkit/saga';

/**
 * One fault at a time — each subgraph killed and started again, Redis restarted empty, the users
 * service gone, inventory's own PostgreSQL stopped — while a client keeps placing orders and reading.
 * Afterwards: every order is final, nothing is oversold, the ledger agrees, everything is ready again
 * with no restart of anything but the failed part, and every error the client saw was an outage code
 * it can retry on.
 */
const RETRYABLE = new Set(['SUBGRAPH_UNAVAILABLE', 'SERVICE_UNAVAILABLE']);
const READ = `{ orders(first: 5) { edges { node { id status customer { name } items { quantity product { sku } } } } }
  products(first: 2) { totalCount } }`;
const ENV = { PLACE_ORDER_WAIT_MS: '500', SAGA_RETRY_MS: '2000', EVENTS_CLAIM_IDLE_MS: '1000' };

let redis: Awaited<ReturnType<typeof startOwnRedis>>;
let postgres: OwnPostgres;
let stack: Stack;
let prefix: string;
/** Processes this file started in place of the stack's own (stopped by this file). */
const replacements = new Map<SubgraphName, ServiceProcess>();

function serviceEnv(name: SubgraphName): Record<string, string> {
  const signing: Record<string, string> =
    name === 'users'
      ? { JWT_PRIVATE_KEY: stack.signingKeyPem, JWT_KEY_ID: 'test-key' }
      : { JWKS_URL: new URL('/.well-known/jwks.json', stack.subgraphs.users.url).toString() };
  return {
    DATABASE_URL: name === 'inventory' ? postgres.url : stack.database.url,
    // Inventory's own server gets the demo catalogue, reservations of the demo orders included, so the
    // services agree from the start (the closing invariant check holds them to it).
    SEED_DEMO_DATA: 'true',
    DATABASE_POOL_MAX: '4',
    REDIS_URL: redis.url,
    EVENTS_PREFIX: prefix,
    LOGIN_MAX_FAILURES: '100',
    ...ENV,
    ...signing,
  };
}

async function restart(name: SubgraphName): Promise<void> {
  const started = await restartProcess(stack.subgraphs[name], `subgraphs/${name}/src/server.ts`, serviceEnv(name));
  stack.subgraphs[name] = started;
  replacements.set(name, started);
}

beforeAll(async () => {
  [redis, postgres] = await Promise.all([startOwnRedis(), startOwnPostgres()]);
  ({ stack, prefix } = await startSagaStack(
    { ...ENV, REDIS_URL: redis.url },
    { gatewayEnv: { SUBGRAPH_TIMEOUT_MS: '8000', SUBGRAPH_BREAKER_RESET_MS: '1000', SUBGRAPH_BREAKER_FAILURES: '5' } },
  ));
  // Inventory moves to a PostgreSQL of its own, which a test below stops.
  await restart('inventory');
}, 180_000);

afterAll(async () => {
  await Promise.all([...replacements.values()].map((s) => s.stop()));
  await stack?.stop();
  await redis?.remove();
  await postgres?.remove();
});

interface Seen {
  status: number;
  codes: string[];
  retryAfter: string | null;
}

/** A client placing orders one after another (retrying with the same key on an outage) and reading. */
function startTraffic(productId: string, staff: Record<string, string>, manager: Record<string, string>) {
  const seen: Seen[] = [];
  const orderIds = new Set<string>();
  const unplaced = new Set<string>();
  let running = true;
  const call = async (query: string, variables: Record<string, unknown>, headers: Record<string, string>) => {
    try {
      const response = await fetch(stack.gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(15_000),
      });
      const body = (await response.json()) as {
        data?: { placeOrder?: { id: string } | null } | null;
        errors?: { extensions?: { code?: string } }[];
      };
      const codes = (body.errors ?? []).map((e) => String(e.extensions?.code));
      if (codes.length > 0 || response.status !== 200)
        seen.push({ status: response.status, codes, retryAfter: response.headers.get('retry-after') });
      return body;
    } catch (error) {
      seen.push({ status: 0, codes: [`NO_ANSWER: ${(error as Error).message}`], retryAfter: null });
      return {};
    }
  };
  const place = async (key: string) => {
    const input = { customerId: demo.customers[0]!.id, items: [{ productId, quantity: 1 }], idempotencyKey: key };
    const body = await call(PLACE, { input }, staff);
    const id = body.data?.placeOrder?.id;
    if (id) {
      orderIds.add(id);
      unplaced.delete(key);
    } else unplaced.add(key);
  };
  const loops = [
    (async () => {
      while (running) {
        await place(randomUUID());
        await new Promise((r) => setTimeout(r, 100));
      }
    })(),
    (async () => {
      while (running) {
        await call(READ, {}, manager);
        await new Promise((r) => setTimeout(r, 150));
      }
    })(),
  ];
  return {
    seen,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      // What a mobile client does with an order that got no answer: send it again, same key.
      await eventually(
        async () => {
          for (const key of [...unplaced]) await place(key);
          return unplaced.size === 0;
        },
        60_000,
        'every order placed after retries',
      );
      return [...orderIds];
    },
  };
}

async function gatewayReady(): Promise<boolean> {
  const response = await fetch(new URL('/ready', stack.gateway.url)).catch(() => null);
  return response?.status === 200;
}

/**
 * Runs traffic, applies the fault for a short window, heals it, and checks everything afterwards. With
 * `outageAnswered`, the fault lasts until the traffic has had such an answer (at most a minute): on a
 * loaded machine a fixed window can pass with every request still waiting, and nothing answered.
 */
async function survive(
  fault: () => Promise<void>,
  heal: () => Promise<void>,
  outageAnswered?: (seen: { codes: string[] }[]) => boolean,
) {
  const units = 15;
  const productId = await productWithStock(stack, units);
  const [staff, manager] = [await stack.as('STAFF'), await stack.as('MANAGER')];
  const traffic = startTraffic(productId, staff, manager);
  await new Promise((r) => setTimeout(r, 1000));
  await fault();
  await new Promise((r) => setTimeout(r, 3000));
  if (outageAnswered)
    await eventually(async () => outageAnswered(traffic.seen), 60_000, 'an answer during the outage').catch(
      (error: Error) => {
        // What the client got instead, and what the service said meanwhile: the reason is in one of them.
        const codes = traffic.seen.map((s) => `${s.status} ${s.codes.join(',')}`);
        const logs = Object.entries(stack.subgraphs).map(([name, s]) => `${name}:\n${s.output.slice(-15).join('\n')}`);
        throw new Error(`${error.message}\nseen: ${JSON.stringify(codes.slice(-20))}\n${logs.join('\n')}`);
      },
    );
  await heal();
  // A transaction that lost its client is ended by the server after 15 s (packages/db), and a pool
  // stuck after a restart is replaced after 20 s: the bound covers both.
  await eventually(gatewayReady, 90_000, 'gateway ready again');
  await eventually(
    async () => {
      const result = await graphql(stack.gateway.url, READ, {}, manager);
      return !result.errors && result.data?.products;
    },
    60_000,
    'full answers again',
  );
  await new Promise((r) => setTimeout(r, 1000));
  const ids = await traffic.stop();

  expect(ids.length).toBeGreaterThan(0);
  const statuses = await finalStatuses(stack, ids, 90_000);
  const confirmed = [...statuses.values()].filter((s) => s === 'CONFIRMED').length;
  expect([...statuses.values()].every((s) => s === 'CONFIRMED' || s === 'REJECTED')).toBe(true);
  expect(confirmed).toBe(Math.min(units, ids.length));
  const stock = await stockOf(stack, productId);
  expect(stock).toEqual({ onHand: units, reserved: confirmed, available: units - confirmed });
  const check = await run('subgraphs/inventory/src/stock-check.ts', { DATABASE_URL: postgres.url });
  expect(check.code, check.stderr + check.stdout).toBe(0);

  const unexpected = traffic.seen.filter((s) => s.codes.some((c) => !RETRYABLE.has(c)));
  expect(unexpected, JSON.stringify(unexpected.slice(0, 5))).toEqual([]);
  for (const outage of traffic.seen.filter((s) => s.status === 503))
    expect(Number(outage.retryAfter)).toBeGreaterThan(0);
  return traffic.seen;
}

describe('chaos: one fault at a time while orders and queries flow', () => {
  for (const name of ['customers', 'inventory', 'orders', 'users'] as const) {
    it(`survives the ${name} subgraph being killed and started again`, async () => {
      await survive(
        () => killProcess(stack.subgraphs[name]),
        () => restart(name),
      );
    }, 180_000);
  }

  it('survives Redis restarted with no data', async () => {
    await survive(
      () => redis.stop(),
      () => redis.restartEmpty(),
    );
  }, 180_000);

  it("survives inventory's PostgreSQL stopped and started again", async () => {
    const unavailable = (seen: { codes: string[] }[]) => seen.some((s) => s.codes.includes('SERVICE_UNAVAILABLE'));
    const seen = await survive(
      () => postgres.stop(),
      () => postgres.start(),
      unavailable,
    );
    expect(unavailable(seen)).toBe(true);
  }, 300_000);

  it('leaves every cross-service invariant holding after all of it (stockgraph check)', async () => {
    const outcome = await run(
      'cli/src/main.ts',
      { DATABASE_URL: stack.database.url, INVENTORY_DATABASE_URL: postgres.url, LOG_LEVEL: 'warn' },
      ['check', '--grace', '0'],
    );
    expect(outcome.code, outcome.stdout + outcome.stderr).toBe(0);
  }, 120_000);
});
