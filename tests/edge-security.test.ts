import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  execute,
  graphql,
  persistedRequest,
  post,
  startStack,
  type ServiceProcess,
  type Stack,
} from '@stockgraph/testkit';
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeDocument, RefreshSessionDocument, SignInDocument, SignOutDocument } from '../schema/generated/graphql.js';
import { openWs } from './subscription-support.js';

/**
 * The attacks of issue 8 on the edge, replayed against real processes: the gateway (APQ on the
 * machine's Redis, under a key prefix of this run), a gateway that runs only trusted documents, and the
 * users subgraph called directly.
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `sgtest:${randomBytes(6).toString('hex')}:`;
const redis = (...args: string[]) => execFileSync('redis-cli', ['-u', REDIS_URL, ...args], { encoding: 'utf8' }).trim();
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const APQ_MAX_ENTRIES = 5;

let stack: Stack;
let gateway: ServiceProcess;
let trusted: ServiceProcess;
let manager: Record<string, string>;
let limitedA: ServiceProcess;
let limitedB: ServiceProcess;
let limitedAlone: ServiceProcess;
const ratePrefix = `${prefix}limits:`;
/** Low budgets so a test reaches them: `{ me { id } }` costs 4 points (graphql-armor: 2 + 1.5 × 1). */
const LIMITS = { RATE_LIMIT_POINTS: '40', RATE_LIMIT_SIGN_IN: '3', RATE_LIMIT_APQ_REGISTRATIONS: '2' };

beforeAll(async () => {
  stack = await startStack({
    gatewayEnv: {
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      APQ_MAX_ENTRIES: String(APQ_MAX_ENTRIES),
      APQ_MAX_DOCUMENT_BYTES: '8192',
    },
  });
  gateway = stack.gateway;
  manager = await stack.as('MANAGER');
  // One at a time: on a busy machine parallel starts overrun the start timeout.
  trusted = await stack.startGateway({ TRUSTED_DOCUMENTS_ONLY: 'true' });
  // Two replicas on one Redis: one budget.
  limitedA = await stack.startGateway({ CACHE_REDIS_URL: REDIS_URL, REDIS_KEY_PREFIX: ratePrefix, ...LIMITS });
  limitedB = await stack.startGateway({ CACHE_REDIS_URL: REDIS_URL, REDIS_KEY_PREFIX: ratePrefix, ...LIMITS });
  // Its Redis is unreachable (nothing listens on port 1): it must still limit, on its own.
  limitedAlone = await stack.startGateway({ CACHE_REDIS_URL: 'redis://127.0.0.1:1', ...LIMITS });
  // Starting the stack is most of this file's time; on a busy machine it takes minutes.
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  const keys = redis('--scan', '--pattern', `${prefix}*`).split('\n').filter(Boolean);
  if (keys.length > 0) redis('del', ...keys);
});

const metricsUrl = (service: ServiceProcess) => new URL('/metrics', service.url).toString();
const metrics = async (service: ServiceProcess) => (await fetch(metricsUrl(service))).text();
const series = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#')).length;
const hugeName = (size: number) => `Q${randomBytes(8).toString('hex')}${'x'.repeat(size)}`;

describe('finding 1: metrics labels come from a bounded set', () => {
  async function flood(
    service: ServiceProcess,
    make: (name: string) => Record<string, unknown>,
    headers: Record<string, string> = {},
  ) {
    const before = await metrics(service);
    for (let i = 0; i < 20; i += 1) await post(service.url, make(hugeName(100_000)), headers);
    const after = await metrics(service);
    // Twenty requests with a unique 100 KB name each: no new series per name, and no name in the page.
    expect(after.length).toBeLessThan(before.length + 20_000);
    expect(series(after)).toBeLessThan(series(before) + 40);
    expect(after).not.toMatch(/x{200}/);
    // Logs carry a capped name too.
    expect(Math.max(...service.output.map((l) => l.length))).toBeLessThan(8192);
  }

  it('at the gateway, named operations and unknown operation names alike', async () => {
    await flood(gateway, (name) => ({ query: `query ${name} { __typename }`, operationName: name }));
    await flood(gateway, (name) => ({ query: '{ __typename }', operationName: name }), manager);
  });

  it('at a gateway that runs only trusted documents', async () => {
    await flood(trusted, (name) => ({ query: `query ${name} { __typename }`, operationName: name }));
  });

  it('in the users subgraph, through refreshSession called directly and through the gateway', async () => {
    const mutation = (name: string) => ({
      query: `mutation ${name} { refreshSession(refreshToken: "nope") { accessToken } }`,
      operationName: name,
    });
    await flood(stack.subgraphs.users, mutation);
    await flood(gateway, mutation);
    await flood(stack.subgraphs.users, mutation);
  });
});

describe('finding 2: APQ registrations cannot fill Redis', () => {
  const apqKeys = () => redis('--scan', '--pattern', `${prefix}apq:*`).split('\n').filter(Boolean);
  const register = (query: string, headers: Record<string, string> = {}) =>
    post(gateway.url, { query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } }, headers);

  it('stores nothing an anonymous caller sends, even a valid public operation', async () => {
    const padded = `query Padded { __typename } # ${'x'.repeat(500_000)}`;
    await register(padded);
    const login = `mutation Anonymous${randomBytes(3).toString('hex')} { login(email: "a@b.c", password: "p") { accessToken } }`;
    await register(login);
    expect(redis('exists', `${prefix}apq:${sha256(padded)}`)).toBe('0');
    expect(redis('exists', `${prefix}apq:${sha256(login)}`)).toBe('0');
  });

  it('stores nothing a signed-in caller is not allowed to run', async () => {
    const viewer = await stack.as('VIEWER');
    const denied = `query Denied${randomBytes(3).toString('hex')} { products(first: 1) { edges { node { costPrice } } } }`;
    const answer = await register(denied, viewer);
    expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(redis('exists', `${prefix}apq:${sha256(denied)}`)).toBe('0');
  });

  it('stores an allowed registration, but not one above the size cap, and keeps at most the entry cap', async () => {
    const allowed = `query Allowed${randomBytes(3).toString('hex')} { products(first: 1) { totalCount } }`;
    expect((await register(allowed, manager)).data).toBeTruthy();
    expect(redis('exists', `${prefix}apq:${sha256(allowed)}`)).toBe('1');
    // A registered hash now runs by its hash alone.
    const byHash = await post(gateway.url, persistedRequest(sha256(allowed)), manager);
    expect(byHash.data).toEqual({ products: { totalCount: expect.any(Number) } });

    const big = `query Big { products(first: 1) { totalCount } } # ${'x'.repeat(20_000)}`;
    expect((await register(big, manager)).data).toBeTruthy();
    expect(redis('exists', `${prefix}apq:${sha256(big)}`)).toBe('0');

    const many = Array.from(
      { length: APQ_MAX_ENTRIES + 4 },
      (_, i) => `query Many${i}x${randomBytes(3).toString('hex')} { __typename }`,
    );
    for (const query of many) expect((await register(query, manager)).status).toBe(200);
    expect(apqKeys().length).toBeLessThanOrEqual(APQ_MAX_ENTRIES + 1);
    // The newest registration is the one kept.
    expect(redis('exists', `${prefix}apq:${sha256(many.at(-1)!)}`)).toBe('1');
  });
});

describe('finding 5: a trusted-documents-only gateway lets people sign in', () => {
  it('signs in, refreshes and signs out by hash', async () => {
    const signIn = await execute(trusted.url, SignInDocument, {
      email: 'staff@stockgraph.local',
      password: 'stockgraph',
    });
    expect(signIn.errors).toBeUndefined();
    const tokens = signIn.data!.login;
    const me = await execute(trusted.url, MeDocument, {}, { authorization: `Bearer ${tokens.accessToken}` });
    expect(me.data?.me?.email).toBe('staff@stockgraph.local');
    const refreshed = await execute(trusted.url, RefreshSessionDocument, { refreshToken: tokens.refreshToken });
    expect(refreshed.errors).toBeUndefined();
    const next = refreshed.data!.refreshSession;
    const out = await execute(
      trusted.url,
      SignOutDocument,
      { refreshToken: next.refreshToken },
      { authorization: `Bearer ${next.accessToken}` },
    );
    expect(out.data?.logout).toBe(true);
    // Ad-hoc text is still refused.
    const adHoc = await graphql(
      trusted.url,
      'mutation { login(email: "staff@stockgraph.local", password: "stockgraph") { accessToken } }',
    );
    expect(adHoc.errors?.[0]?.extensions?.code).toBe('OPERATION_NOT_TRUSTED');
  });
});

describe('finding 13: a client mistake is a 4xx with a client code', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['unknown operation name', { query: 'query A { __typename }', operationName: 'B' }],
    ['two anonymous operations', { query: '{ __typename } { __typename }' }],
    ['more than 4000 tokens', { query: `{ ${'__typename '.repeat(4100)} }` }],
    ['a syntax error', { query: '{ products(first: ) }' }],
    [
      'persisted query version 2',
      { query: '{ __typename }', extensions: { persistedQuery: { version: 2, sha256Hash: 'abc' } } },
    ],
    ['variables that are not an object', { query: '{ __typename }', variables: [1] }],
  ];
  for (const [name, body] of cases) {
    it(name, async () => {
      const answer = await post(gateway.url, body, manager);
      expect(answer.status).toBe(400);
      const codes = answer.errors!.map((e) => e.extensions?.code);
      expect(codes.every((c) => typeof c === 'string' && c !== 'INTERNAL_SERVER_ERROR')).toBe(true);
    });
  }

  it('passes the GraphQL-over-HTTP audits that a server MUST pass', async () => {
    const fetchFn = (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      for (const [k, v] of Object.entries(manager)) headers.set(k, v);
      return fetch(input, { ...init, headers });
    };
    const results = await Promise.all(serverAudits({ url: gateway.url, fetchFn }).map((audit) => audit.fn()));
    expect(results.length).toBeGreaterThan(30);
    const failed = results.filter((r) => r.status === 'error' || (r.status === 'warn' && r.name.startsWith('MUST')));
    expect(failed.map((r) => `${r.name}: ${'reason' in r ? r.reason : ''}`)).toEqual([]);
  }, 60_000);
});

describe('finding 15: the explorer sample runs', () => {
  // Signing in is the explorer's panel now (tests/explorer.test.ts drives it in a browser); the
  // sample's query must run as it stands for whoever signed in.
  it('runs Catalogue from the default document for a signed-in viewer', async () => {
    const page = await (await fetch(new URL('/', gateway.url))).text();
    const json = /<script type="application\/json" id="explorer-options">([\s\S]*?)<\/script>/.exec(page)![1]!;
    const { defaultQuery } = JSON.parse(json) as { defaultQuery: string };
    const { accessToken } = await stack.login('viewer@stockgraph.local');
    const answer = await post(
      gateway.url,
      { query: defaultQuery, operationName: 'Catalogue' },
      { authorization: `Bearer ${accessToken}` },
    );
    expect(answer.status).toBe(200);
    expect(answer.errors).toBeUndefined();
    expect((answer.data?.products as { totalCount: number }).totalCount).toBeGreaterThan(0);
  });
});

describe('rate limits at the edge', () => {
  const me = '{ me { id } }';
  const ask = async (service: ServiceProcess, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const response = await fetch(service.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] },
    };
  };

  it('two gateway replicas share one budget per user, weighted by cost, with RateLimit headers', async () => {
    const { accessToken } = await stack.login('staff@stockgraph.local');
    const staff = { authorization: `Bearer ${accessToken}` };
    const first = await ask(limitedA, { query: me }, staff);
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-limit')).toBe('40');
    expect(first.headers.get('ratelimit-remaining')).toBe('36');
    expect(Number(first.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    // The other replica sees what the first one counted.
    const second = await ask(limitedB, { query: me }, staff);
    expect(second.headers.get('ratelimit-remaining')).toBe('32');
    // A costlier operation spends more.
    const costly = await ask(limitedB, { query: '{ me { id name email role active } }' }, staff);
    expect(32 - Number(costly.headers.get('ratelimit-remaining'))).toBeGreaterThan(4);

    const answers = [];
    for (let i = 0; i < 10; i += 1) answers.push(await ask(i % 2 ? limitedB : limitedA, { query: me }, staff));
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    const allowed = 3 + answers.filter((a) => a.status === 200).length;
    expect(allowed).toBeLessThanOrEqual(10);
    const refusal = refused[0]!;
    expect(refusal.body.errors?.[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: expect.any(Number),
    });
    expect(Number(refusal.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refusal.headers.get('ratelimit-remaining')).toBe('0');
    expect(refusal.body.data).toBeUndefined();

    // Per user: another user from the same address still has a budget.
    const viewer = await stack.login('viewer@stockgraph.local');
    expect((await ask(limitedB, { query: me }, { authorization: `Bearer ${viewer.accessToken}` })).status).toBe(200);
  });

  it('sign-in has a stricter budget per client address, shared by the replicas', async () => {
    const login = { query: 'mutation { login(email: "nobody@stockgraph.local", password: "wrong") { accessToken } }' };
    const statuses = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await ask(i % 2 ? limitedB : limitedA, login)).status);
    expect(statuses.slice(0, 3).every((s) => s !== 429)).toBe(true);
    expect(statuses.slice(3)).toEqual([429, 429]);
  });

  it('sign-ins over WebSocket count against the client address a trusted proxy names, as over HTTP (issue 28, finding 10)', async () => {
    // The gateway trusts loopback (TRUST_PROXY's default), so the address it counts is the forwarded one.
    const address = `203.0.113.${1 + Math.floor(Math.random() * 250)}`;
    const { accessToken } = await stack.login('viewer@stockgraph.local');
    const ws = openWs(limitedA.url, { authorization: `Bearer ${accessToken}` }, { 'x-forwarded-for': address });
    try {
      const codes = [];
      for (let i = 0; i < 4; i += 1) {
        const { results } = ws.subscribe(
          'mutation { login(email: "nobody@stockgraph.local", password: "wrong") { expiresAt } }',
        );
        codes.push((await results.next(30_000, 'the answer')).errors?.[0]?.extensions?.code);
      }
      expect(codes.slice(0, 3)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
      expect(codes[3]).toBe('RATE_LIMITED');
    } finally {
      await ws.close();
    }
    // The same address over HTTP finds its budget spent; the proxy's own address was not what counted.
    const login = { query: 'mutation { login(email: "nobody@stockgraph.local", password: "wrong") { accessToken } }' };
    expect((await ask(limitedB, login, { 'x-forwarded-for': address })).status).toBe(429);
  });

  it('sign-in fields spend the budget through fragments and aliases, and an operation checks one password at most (issue 28, finding 5)', async () => {
    const from = (n: number) => ({ 'x-forwarded-for': `198.51.100.${n}` });
    const address = 10 + Math.floor(Math.random() * 200);
    // An inline fragment on the root counts like a login at the top.
    const inline = {
      query:
        'mutation { ... on Mutation { login(email: "nobody@stockgraph.local", password: "wrong") { expiresAt } } }',
    };
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await ask(limitedA, inline, from(address))).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    // Thirty aliased logins in a named fragment: refused before any is tried, and they are counted.
    const aliases = Array.from(
      { length: 30 },
      (_, i) => `l${i}: login(email: "nobody@stockgraph.local", password: "w${i}") { expiresAt }`,
    );
    const sprayed = await ask(
      limitedB,
      { query: `mutation { ...Spray } fragment Spray on Mutation { ${aliases.join(' ')} }` },
      from(address + 1),
    );
    expect(sprayed.status).toBe(400);
    expect(sprayed.body.errors?.[0]?.extensions?.code).toBe('TOO_MANY_PASSWORD_CHECKS');
    // A signed-in caller cannot queue thirty password checks in one changePassword request either.
    const { accessToken } = await stack.login('viewer@stockgraph.local');
    const changes = Array.from(
      { length: 30 },
      (_, i) => `c${i}: changePassword(currentPassword: "guess-${i}", newPassword: "a brand new password")`,
    );
    const guessed = await ask(
      limitedA,
      { query: `mutation { ${changes.join(' ')} }` },
      {
        ...from(address + 2),
        authorization: `Bearer ${accessToken}`,
      },
    );
    expect(guessed.status).toBe(400);
    expect(guessed.body.errors?.[0]?.extensions?.code).toBe('TOO_MANY_PASSWORD_CHECKS');
  });

  it('APQ registrations have their own budget', async () => {
    const { accessToken } = await stack.login('admin@stockgraph.local');
    const admin = { authorization: `Bearer ${accessToken}` };
    const statuses = [];
    for (let i = 0; i < 3; i += 1) {
      const query = `query Register${i}x${randomBytes(3).toString('hex')} { __typename }`;
      statuses.push(
        (
          await ask(
            limitedA,
            { query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } },
            admin,
          )
        ).status,
      );
    }
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('limits each replica on its own while Redis is unreachable', async () => {
    const { accessToken } = await stack.login('manager@stockgraph.local');
    const statuses = [];
    for (let i = 0; i < 12; i += 1)
      statuses.push((await ask(limitedAlone, { query: me }, { authorization: `Bearer ${accessToken}` })).status);
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });
});
