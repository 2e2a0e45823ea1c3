import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { generateDemoData } from '@stockgraph/demo-data';
import { graphql, startStack, type Stack } from '@stockgraph/testkit';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Tokens refused by the gateway and by every subgraph on its own (zero trust). */
let stack: Stack;
const demo = generateDemoData();
const viewer = demo.users.find((u) => u.role === 'VIEWER')!;
const ME = '{ me { id } }';

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

interface Forge {
  key?: Parameters<SignJWT['sign']>[0];
  kid?: string;
  issuer?: string;
  audience?: string;
  exp?: number;
  nbf?: number;
  role?: string;
}

async function forge(options: Forge = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: options.role ?? 'ADMIN', sid: '0190b3c4-0000-7000-8000-0000000000bb' })
    .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? 'test-key' })
    .setSubject(viewer.id)
    .setIssuer(options.issuer ?? 'stockgraph-users')
    .setAudience(options.audience ?? 'stockgraph')
    .setIssuedAt(now - 10)
    .setNotBefore(options.nbf ?? now - 10)
    .setExpirationTime(options.exp ?? now + 300)
    .sign(options.key ?? createPrivateKey(stack.signingKeyPem));
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function refusal(token: string, url = stack.gateway.url) {
  const result = await graphql(url, ME, {}, { authorization: `Bearer ${token}` });
  expect(result.data ?? null).toBeNull();
  expect(result.status).toBe(401);
  expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  return result.errors?.[0]?.extensions?.reason;
}

describe('access tokens', () => {
  it('accepts a token from login', async () => {
    const result = await graphql(stack.gateway.url, ME, {}, await stack.as('VIEWER'));
    expect(result.data).toEqual({ me: { id: viewer.id } });
  });

  it('refuses expired, premature, foreign and forged tokens with a reason', async () => {
    const now = Math.floor(Date.now() / 1000);
    const valid = (await stack.login('viewer@stockgraph.local')).accessToken;
    const [header, payload, signature] = valid.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const publicPem = createPublicKey(createPrivateKey(stack.signingKeyPem))
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const hsHeader = b64({ alg: 'HS256', typ: 'JWT', kid: 'test-key' });
    const hsSignature = createHmac('sha256', publicPem).update(`${hsHeader}.${payload}`).digest('base64url');
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const cases: [string, string, RegExp][] = [
      ['expired', await forge({ exp: now - 60 }), /TOKEN_EXPIRED/],
      ['not yet valid', await forge({ nbf: now + 600 }), /TOKEN_CLAIM_INVALID:nbf/],
      ['wrong issuer', await forge({ issuer: 'someone-else' }), /TOKEN_CLAIM_INVALID:iss/],
      ['wrong audience', await forge({ audience: 'another-api' }), /TOKEN_CLAIM_INVALID:aud/],
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`, /TOKEN_/],
      [
        'HS256 signed with the public key',
        `${hsHeader}.${payload}.${hsSignature}`,
        /TOKEN_ALGORITHM_REFUSED|TOKEN_INVALID/,
      ],
      ['unknown kid', await forge({ key: otherKey, kid: 'not-ours' }), /TOKEN_KEY_UNKNOWN/],
      ['known kid, other key', await forge({ key: otherKey }), /TOKEN_SIGNATURE_INVALID/],
      ['tampered payload', `${header}.${b64({ ...claims, role: 'ADMIN' })}.${signature}`, /TOKEN_SIGNATURE_INVALID/],
      ['not a JWT', 'definitely-not-a-token', /TOKEN_INVALID/],
    ];
    for (const [name, token, reason] of cases) {
      expect(await refusal(token), name).toMatch(reason);
      // Each subgraph checks the token itself too: calling one directly gains nothing.
      expect(await refusal(token, stack.subgraphs.inventory.url), `${name} at inventory`).toMatch(reason);
    }
  });

  it('still lets a client with an expired token sign in and refresh', async () => {
    const expired = { authorization: `Bearer ${await forge({ exp: Math.floor(Date.now() / 1000) - 60 })}` };
    const login = await graphql(
      stack.gateway.url,
      'mutation { login(email: "viewer@stockgraph.local", password: "stockgraph") { refreshToken } }',
      {},
      expired,
    );
    expect(login.errors).toBeUndefined();
    const refreshed = await graphql(
      stack.gateway.url,
      'mutation ($t: String!) { refreshSession(refreshToken: $t) { accessToken } }',
      { t: login.data.login.refreshToken },
      expired,
    );
    expect(refreshed.errors).toBeUndefined();
    // Anything that needs a signed-in user still answers with the token's problem.
    const me = await graphql(stack.gateway.url, ME, {}, expired);
    expect(me.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
  });

  it('refuses a malformed Authorization header', async () => {
    const result = await graphql(stack.gateway.url, ME, {}, { authorization: 'Basic dXNlcjpwYXNz' });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_MALFORMED' });
  });

  it('ends the sessions of a deactivated user at the gateway', async () => {
    const admin = await stack.as('ADMIN');
    const created = await graphql(
      stack.gateway.url,
      'mutation ($i: CreateUserInput!) { createUser(input: $i) { id } }',
      { i: { email: 'temp.clerk@example.com', name: 'Temp Clerk', role: 'STAFF', password: 'temporary password' } },
      admin,
    );
    const { accessToken } = await stack.login('temp.clerk@example.com', 'temporary password');
    expect(
      (await graphql(stack.gateway.url, ME, {}, { authorization: `Bearer ${accessToken}` })).errors,
    ).toBeUndefined();
    await graphql(
      stack.gateway.url,
      'mutation ($id: ID!) { updateUser(id: $id, input: { active: false }) { active } }',
      { id: created.data.createUser.id },
      admin,
    );
    expect(await refusal(accessToken)).toBe('SESSION_REVOKED');
  });

  it('refuses a logged-out refresh token and revokes the family of a reused one', async () => {
    const REFRESH = 'mutation ($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }';
    const first = await stack.login('staff@stockgraph.local');
    await graphql(
      stack.gateway.url,
      'mutation ($t: String!) { logout(refreshToken: $t) }',
      { t: first.refreshToken },
      { authorization: `Bearer ${first.accessToken}` },
    );
    const afterLogout = await graphql(stack.gateway.url, REFRESH, { t: first.refreshToken });
    expect(afterLogout.errors?.[0]?.extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'REFRESH_TOKEN_REVOKED',
    });
    expect(await refusal(first.accessToken)).toBe('SESSION_REVOKED');

    const second = await stack.login('staff@stockgraph.local');
    const rotated = await graphql(stack.gateway.url, REFRESH, { t: second.refreshToken });
    expect(rotated.errors).toBeUndefined();
    const reused = await graphql(stack.gateway.url, REFRESH, { t: second.refreshToken });
    expect(reused.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REUSED' });
    expect(await refusal(rotated.data.refreshSession.accessToken)).toBe('SESSION_REVOKED');
  });
});

describe('subgraphs called directly, without the gateway', () => {
  it('give nothing to a caller without a token but stay composable', async () => {
    for (const [name, query] of [
      ['inventory', '{ products(first: 1) { totalCount } }'],
      ['orders', '{ orders(first: 1) { totalCount } }'],
      ['customers', '{ customers(first: 1) { totalCount } }'],
      ['users', '{ users(first: 1) { totalCount } }'],
    ] as const) {
      const result = await graphql(stack.subgraphs[name].url, query);
      expect(result.errors?.[0]?.extensions?.code, name).toBe('UNAUTHENTICATED');
      // Root fields are nullable (an outage nulls only its own fields), so "nothing" is data without a value.
      expect(
        Object.values(result.data ?? {}).filter((value) => value !== null),
        name,
      ).toEqual([]);
      const sdl = await graphql(stack.subgraphs[name].url, '{ _service { sdl } }');
      expect(sdl.data._service.sdl, name).toContain('@key');
    }
  });

  it('check every field inside _entities answers against the caller', async () => {
    const product = demo.products[0]!;
    const query = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { sku costPrice } } }';
    const r = [{ __typename: 'Product', id: product.id }];
    const anonymous = await graphql(stack.subgraphs.inventory.url, query, { r });
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toContain('UNAUTHENTICATED');
    const asViewer = await graphql(stack.subgraphs.inventory.url, query, { r }, await stack.as('VIEWER'));
    expect(asViewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(asViewer.errors?.[0]?.path).toEqual(['_entities', 0, 'costPrice']);
    const asManager = await graphql(stack.subgraphs.inventory.url, query, { r }, await stack.as('MANAGER'));
    expect(asManager.data._entities).toEqual([{ sku: product.sku, costPrice: product.costPrice }]);
  });
});
