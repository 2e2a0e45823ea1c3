import { randomUUID } from 'node:crypto';
import { graphql, type ServiceProcess, type Stack } from '@stockgraph/testkit';
import {
  dropRedisKeys,
  eventually,
  productWithStock,
  startOwnRedis,
  startSagaStack,
  REDIS_URL,
} from '@stockgraph/testkit/saga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stockgraph } from './cli-support.js';

/**
 * The gateway's response cache and in-flight deduplication, on real Redis (cache, pub/sub, the
 * subgraphs' event streams) and Postgres, each service its own process. `stack.gateway` caches;
 * `plain` is a second gateway on the same subgraphs with the cache off: the reference for what each
 * caller should see, and the writer whose changes reach the cache only as the subgraphs' events.
 */
let stack: Stack;
let prefix: string;
let plain: ServiceProcess;
const ROLES = ['VIEWER', 'STAFF', 'MANAGER', 'ADMIN'] as const;

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function ask(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
}

const hit = (answer: Answer) => /; hit\b/.test(answer.headers.get('cache-status') ?? '');

/**
 * Asks until the answer comes from the cache: the events of what a test just set up (a product
 * created, stock received) may reach the gateway after its first answer and drop it, as they should.
 */
async function cached(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  return eventually(
    async () => {
      const answer = await ask(url, query, variables, headers);
      return hit(answer) ? answer : null;
    },
    10_000,
    `a cached answer to ${query}`,
  );
}
/** What a caller sees, without what differs between two askings of the same thing (messages' request ids). */
const seen = (answer: Answer) => ({
  data: answer.body.data ?? null,
  codes: (answer.body.errors ?? []).map((e) => e.extensions?.code),
});

const PASSWORD = 'stockgraph-response-cache';

/** A user of its own (created by the demo admin), signed in: its id, email and Authorization header. */
async function newUser(role: (typeof ROLES)[number]) {
  const email = `${role.toLowerCase()}-${randomUUID().slice(0, 8)}@stockgraph.test`;
  const created = await graphql(
    stack.gateway.url,
    'mutation ($i: CreateUserInput!) { createUser(input: $i) { id } }',
    { i: { email, name: `Another ${role.toLowerCase()}`, role, password: PASSWORD } },
    await stack.as('ADMIN'),
  );
  expect(created.errors).toBeUndefined();
  const headers = { authorization: `Bearer ${(await stack.login(email, PASSWORD)).accessToken}` };
  return { id: created.data.createUser.id as string, email, headers };
}

async function metric(url: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

beforeAll(async () => {
  ({ stack, prefix } = await startSagaStack());
  plain = await stack.startGateway({ RESPONSE_CACHE: 'false', QUERY_DEDUP: 'false' });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  if (prefix) await dropRedisKeys(prefix);
});

describe('answers from the cache', () => {
  it('a repeated query is answered from the cache, saying so and how old', async () => {
    const viewer = await stack.as('VIEWER');
    const query = '{ products(first: 3) { edges { node { id name sku } } totalCount } }';
    const first = await ask(stack.gateway.url, query, {}, viewer);
    expect(first.headers.get('cache-status')).toBe('stockgraph; fwd=miss; stored');
    const second = await ask(stack.gateway.url, query, {}, viewer);
    expect(hit(second)).toBe(true);
    expect(Number(second.headers.get('age'))).toBeGreaterThanOrEqual(0);
    expect(second.headers.get('cache-control')).toBe('private, no-cache');
    expect(second.body).toEqual(first.body);
  });

  it('gives every role of the matrix, in any order, exactly what it would get uncached', async () => {
    const { data } = await graphql(
      stack.gateway.url,
      '{ products(first: 1) { edges { node { id } } } }',
      {},
      await stack.as('ADMIN'),
    );
    const productId = data.products.edges[0].node.id as string;
    // Each reads something whose answer depends on the role or on who asks: cost prices (managers),
    // customers found by email (staff and up), users' emails (themselves or an administrator).
    const queries: [string, Record<string, unknown>][] = [
      ['query ($id: ID!) { product(id: $id) { id name unitPrice costPrice } }', { id: productId }],
      ['query ($id: ID!) { product(id: $id) { id name unitPrice } }', { id: productId }],
      ['{ customers(search: "example.com", first: 3) { edges { node { id name } } totalCount } }', {}],
      ['{ orders(first: 3) { edges { node { id number total createdBy { id name email } } } } }', {}],
      ['{ me { id email role } }', {}],
    ];
    for (const order of [ROLES, [...ROLES].reverse()]) {
      for (const role of order) {
        const headers = await stack.as(role);
        for (const [query, variables] of queries) {
          const expected = seen(await ask(plain.url, query, variables, headers));
          for (let i = 0; i < 2; i++) {
            const cached = await ask(stack.gateway.url, query, variables, headers);
            expect(seen(cached), `${role}: ${query}`).toEqual(expected);
          }
        }
      }
    }
    // Not vacuous: the answers differed by role, and the cache did answer.
    const asViewer = await ask(stack.gateway.url, queries[2]![0], {}, await stack.as('VIEWER'));
    const asStaff = await ask(stack.gateway.url, queries[2]![0], {}, await stack.as('STAFF'));
    expect(hit(asViewer) && hit(asStaff)).toBe(true);
    expect(asViewer.body.data).not.toEqual(asStaff.body.data);
  });

  it('keeps per-user answers apart for two users of one role', async () => {
    const { email, headers: second } = await newUser('VIEWER');
    const first = await stack.as('VIEWER');
    const me = '{ me { email } }';
    expect((await ask(stack.gateway.url, me, {}, first)).body.data).toEqual({
      me: { email: 'viewer@stockgraph.local' },
    });
    expect((await ask(stack.gateway.url, me, {}, second)).body.data).toEqual({ me: { email } });
    expect((await cached(stack.gateway.url, me, {}, first)).body.data).toEqual({
      me: { email: 'viewer@stockgraph.local' },
    });
    expect((await cached(stack.gateway.url, me, {}, second)).body.data).toEqual({ me: { email } });
  });
});

describe('invalidation', () => {
  const STOCK = 'query ($id: ID!) { product(id: $id) { id name onHand available } }';

  it("drops a product's answers when the subgraph's event says its stock changed, whoever changed it", async () => {
    const productId = await productWithStock(stack, 10);
    const viewer = await stack.as('VIEWER');
    const before = await cached(stack.gateway.url, STOCK, { id: productId }, viewer);
    // The same product asked for without its id: which product it was is not in the answer.
    const withoutId = 'query ($id: ID!) { product(id: $id) { onHand } }';
    await cached(stack.gateway.url, withoutId, { id: productId }, viewer);
    expect(before.body.data).toMatchObject({ product: { onHand: 10 } });
    // Through the other gateway: this one learns of it only from inventory's StockChanged event.
    const changed = await graphql(
      plain.url,
      'mutation ($id: ID!) { adjustStock(productId: $id, delta: 5, reason: ADJUSTMENT) { onHand } }',
      { id: productId },
      await stack.as('MANAGER'),
    );
    expect(changed.errors).toBeUndefined();
    const startedAt = Date.now();
    const onHand = async () =>
      ((await ask(stack.gateway.url, STOCK, { id: productId }, viewer)).body.data?.product as { onHand: number })
        .onHand;
    await eventually(async () => (await onHand()) === 15, 10_000, 'the cached stock follows the event');
    await eventually(
      async () =>
        ((await ask(stack.gateway.url, withoutId, { id: productId }, viewer)).body.data?.product as { onHand: number })
          .onHand === 15,
      10_000,
      'the answer without the id follows it too',
    );
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(
      await metric(stack.gateway.url, 'stockgraph_response_cache_invalidations_total', 'source="event"'),
    ).toBeGreaterThan(0);
  });

  it('drops what a mutation answered here changed before the mutation answers', async () => {
    const productId = await productWithStock(stack, 3);
    const manager = await stack.as('MANAGER');
    const { data } = await graphql(stack.gateway.url, STOCK, { id: productId }, manager);
    const sku = await graphql(
      stack.gateway.url,
      'query ($id: ID!) { product(id: $id) { sku } }',
      { id: productId },
      manager,
    );
    const list = 'query ($s: String) { products(filter: { search: $s }) { edges { node { id name } } } }';
    const search = { s: sku.data.product.sku as string };
    await cached(stack.gateway.url, list, search, manager);
    await cached(stack.gateway.url, STOCK, { id: productId }, manager);
    const renamed = await graphql(
      stack.gateway.url,
      'mutation ($id: ID!) { updateProduct(id: $id, input: { name: "Renamed at once" }) { id name } }',
      { id: productId },
      manager,
    );
    expect(renamed.errors).toBeUndefined();
    // No waiting: the very next reads.
    const single = await ask(stack.gateway.url, STOCK, { id: productId }, manager);
    const listed = await ask(stack.gateway.url, list, search, manager);
    expect(single.body.data).toEqual({ product: { ...data.product, name: 'Renamed at once' } });
    expect(listed.body.data).toEqual({ products: { edges: [{ node: { id: productId, name: 'Renamed at once' } }] } });
  });

  it('never answers a revoked session from the cache, nor a demoted user with their old role', async () => {
    const admin = await stack.as('ADMIN');
    const { id: userId, email, headers } = await newUser('MANAGER');
    const costs = '{ products(first: 2) { edges { node { id costPrice } } } }';
    await cached(stack.gateway.url, costs, {}, headers);
    const demoted = await graphql(
      stack.gateway.url,
      'mutation ($id: ID!) { updateUser(id: $id, input: { role: VIEWER }) { role } }',
      { id: userId },
      admin,
    );
    expect(demoted.errors).toBeUndefined();
    // The role change revoked the session: refused within the revocation list's refresh, as uncached.
    const refused = await eventually(
      async () => {
        const after = await ask(stack.gateway.url, costs, {}, headers);
        return after.body.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED' ? after : null;
      },
      10_000,
      'the demoted session refused',
    );
    expect(refused.body.data ?? null).toBeNull();
    // A new session has the new role: the managers' cached answer is not theirs.
    const again = { authorization: `Bearer ${(await stack.login(email, PASSWORD)).accessToken}` };
    const asViewer = await ask(stack.gateway.url, costs, {}, again);
    expect(asViewer.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('changes made around the services', () => {
  it("an operator tool that changes tables drops every gateway's cached answers", async () => {
    const viewer = await stack.as('VIEWER');
    const query = '{ products(first: 4) { edges { node { id name } } } }';
    await cached(stack.gateway.url, query, {}, viewer);
    const rebuilt = await stockgraph(['aggregates', 'rebuild'], {
      DATABASE_URL: stack.database.url,
      REDIS_URL,
      // The stack's gateways keep their keys under this prefix (testkit's startStack).
      REDIS_KEY_PREFIX: `sgtest:${stack.database.name}:`,
    });
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toContain("The gateways' cached answers were dropped.");
    const after = await ask(stack.gateway.url, query, {}, viewer);
    // Its own process's layer held the answer too: the message on the channel dropped it there.
    expect(after.headers.get('cache-status')).toMatch(/fwd=miss/);
    // After a change by hand: the command that only drops.
    await cached(stack.gateway.url, query, {}, viewer);
    const dropped = await stockgraph(['cache', 'drop'], {
      REDIS_URL,
      REDIS_KEY_PREFIX: `sgtest:${stack.database.name}:`,
    });
    expect(dropped.code, dropped.stderr).toBe(0);
    expect((await ask(stack.gateway.url, query, {}, viewer)).headers.get('cache-status')).toMatch(/fwd=miss/);
    // Nowhere to drop them: a clear error, exit 1.
    const nowhere = await stockgraph(['cache', 'drop'], { REDIS_URL: undefined, CACHE_REDIS_URL: undefined });
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toMatch(/no CACHE_REDIS_URL or REDIS_URL/);
  });
});

describe('identical queries in flight', () => {
  it('share one execution, and only between callers who may see the same answer', async () => {
    // Statistics have no cache policy: what is shared here is only the execution in flight.
    const query =
      '{ orderStats(interval: DAY, from: "2025-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z") { start orderCount revenue } }';
    const manager = await stack.as('MANAGER');
    const admin = await stack.as('ADMIN');
    const fetchesBefore = await metric(stack.subgraphs.orders.url, 'stockgraph_graphql_requests_total', 'operation=');
    const collapsedBefore = await metric(
      stack.gateway.url,
      'stockgraph_response_cache_requests_total',
      'result="collapsed"',
    );
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, () => ask(stack.gateway.url, query, {}, manager)),
      ...Array.from({ length: 10 }, () => ask(stack.gateway.url, query, {}, admin)),
    ]);
    for (const answer of answers) {
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data).toEqual(answers[0]!.body.data);
    }
    const fetches =
      (await metric(stack.subgraphs.orders.url, 'stockgraph_graphql_requests_total', 'operation=')) - fetchesBefore;
    const collapsed =
      (await metric(stack.gateway.url, 'stockgraph_response_cache_requests_total', 'result="collapsed"')) -
      collapsedBefore;
    // Two callers, so at least two executions; fewer than twenty because most were shared.
    expect(fetches).toBeGreaterThanOrEqual(2);
    expect(fetches).toBeLessThan(20);
    expect(collapsed).toBe(20 - fetches);
  });
});

describe('the cache Redis away', () => {
  it('answers keep coming, uncached, a metric says so, and the cache is back with Redis', async () => {
    const redis = await startOwnRedis();
    const gateway = await stack.startGateway({ CACHE_REDIS_URL: redis.url, REDIS_URL });
    let late: ServiceProcess | undefined;
    try {
      const viewer = await stack.as('VIEWER');
      const query = '{ products(first: 2) { edges { node { id name } } } }';
      await cached(gateway.url, query, {}, viewer);
      await redis.stop();
      for (let i = 0; i < 3; i++) {
        const answer = await ask(gateway.url, query, {}, viewer);
        expect(answer.status).toBe(200);
        expect(answer.body.errors).toBeUndefined();
        expect(answer.body.data).toMatchObject({ products: { edges: expect.any(Array) } });
        expect(hit(answer)).toBe(false);
      }
      expect(
        await metric(gateway.url, 'stockgraph_response_cache_requests_total', 'result="unavailable"'),
      ).toBeGreaterThan(0);
      // A replica started meanwhile comes up and answers; both cache again once Redis is back.
      late = await stack.startGateway({ CACHE_REDIS_URL: redis.url, REDIS_URL });
      expect((await ask(late.url, query, {}, viewer)).body.data).toMatchObject({ products: expect.anything() });
      await redis.start();
      await cached(gateway.url, query, {}, viewer);
      await cached(late.url, query, {}, viewer);
    } finally {
      await late?.stop();
      await gateway.stop();
      await redis.remove();
    }
  });
});
