import { DEMO_PASSWORD, generateDemoData } from '@stockgraph/demo-data';
import { graphql, useSubgraph } from '@stockgraph/testkit';
import { describe, expect, it } from 'vitest';
import { parseUsersEnv, startUsers } from './app.js';
import { users } from './db/schema.js';
import { verifyPassword } from './domain/passwords.js';

const demo = generateDemoData();
const service = useSubgraph('users', startUsers, (source) => parseUsersEnv({ ...source, LOGIN_MAX_FAILURES: '3' }));

const LOGIN =
  'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken expiresAt } }';
const REFRESH = 'mutation ($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }';

async function login(email: string, password = DEMO_PASSWORD) {
  const result = await graphql(service.current.url, LOGIN, { e: email, p: password });
  return result;
}

async function signIn(role: string) {
  const result = await login(`${role}@stockgraph.local`);
  expect(result.errors).toBeUndefined();
  const { accessToken, refreshToken } = result.data.login;
  return { refreshToken, headers: { authorization: `Bearer ${accessToken}` } };
}

describe('users subgraph', () => {
  it('resolves User entities by @key(fields: "id") for a signed-in caller', async () => {
    const admin = demo.users.find((u) => u.role === 'ADMIN')!;
    const { headers } = await signIn('admin');
    const result = await graphql(
      service.current.url,
      `
        query ($r: [_Any!]!) {
          _entities(representations: $r) {
            ... on User {
              id
              email
              role
              active
            }
          }
        }
      `,
      {
        r: [
          { __typename: 'User', id: admin.id },
          { __typename: 'User', id: '0190b3c4-0000-7000-8000-000000000000' },
        ],
      },
      headers,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data._entities).toEqual([
      { id: admin.id, email: 'admin@stockgraph.local', role: 'ADMIN', active: true },
      null,
    ]);
  });

  it('seeds one demo user per role with an argon2id hash of the demo password', async () => {
    const rows = await service.current.db.select().from(users);
    expect(rows.map((r) => r.role).sort()).toEqual(['ADMIN', 'MANAGER', 'STAFF', 'VIEWER']);
    for (const row of rows) {
      expect(row.passwordHash).toMatch(/^\$argon2id\$/);
      expect(await verifyPassword(row.passwordHash, DEMO_PASSWORD)).toBe(true);
    }
  });

  it('pages users by email for an admin', async () => {
    const { headers } = await signIn('admin');
    const first = await graphql<{ users: { totalCount: number; edges: { node: { email: string } }[] } }>(
      service.current.url,
      `
        {
          users(first: 3) {
            totalCount
            edges {
              node {
                email
              }
            }
            pageInfo {
              endCursor
            }
          }
        }
      `,
      {},
      headers,
    );
    expect(first.data!.users.totalCount).toBeGreaterThanOrEqual(4);
    expect(first.data!.users.edges.map((e) => e.node.email)).toEqual([
      'admin@stockgraph.local',
      'manager@stockgraph.local',
      'staff@stockgraph.local',
    ]);
  });

  it('answers a wrong password and an unknown email the same way', async () => {
    const wrong = await login('viewer@stockgraph.local', 'not-the-password');
    const unknown = await login('nobody@stockgraph.local', 'not-the-password');
    expect(wrong.errors?.[0]).toMatchObject({
      message: 'Invalid email or password',
      extensions: { code: 'UNAUTHENTICATED' },
    });
    expect(unknown.errors?.[0]).toEqual(wrong.errors?.[0]);
  });

  it('locks an account after repeated failures, even for the right password', async () => {
    for (let i = 0; i < 3; i++) await login('manager@stockgraph.local', 'guess-number-' + i);
    const locked = await login('manager@stockgraph.local');
    expect(locked.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(locked.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('counts parallel guesses before checking them: a burst gets no more tries than the limit', async () => {
    const guesses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => login('burst.target@stockgraph.local', `parallel-guess-${i}`)),
    );
    const codes = guesses.map((g) => g.errors?.[0]?.extensions?.reason ?? g.errors?.[0]?.extensions?.code);
    expect(codes.filter((c) => c === 'INVALID_CREDENTIALS').length).toBeLessThanOrEqual(3);
    expect(codes.filter((c) => c === 'RATE_LIMITED').length).toBeGreaterThanOrEqual(9);
  });

  it('rotates refresh tokens and revokes the whole session when one is reused', async () => {
    const { refreshToken } = await signIn('staff');
    const first = await graphql(service.current.url, REFRESH, { t: refreshToken });
    expect(first.errors).toBeUndefined();
    const stolen = await graphql(service.current.url, REFRESH, { t: refreshToken });
    expect(stolen.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REUSED' });
    // The legitimate holder's newer token and access token die with the session.
    const newer = await graphql(service.current.url, REFRESH, { t: first.data.refreshSession.refreshToken });
    expect(newer.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REVOKED' });
    const me = await graphql(
      service.current.url,
      '{ me { id } }',
      {},
      { authorization: `Bearer ${first.data.refreshSession.accessToken}` },
    );
    expect(me.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'SESSION_REVOKED' });
  });

  it('ends a session on logout', async () => {
    const { refreshToken, headers } = await signIn('viewer');
    const out = await graphql(
      service.current.url,
      'mutation ($t: String!) { logout(refreshToken: $t) }',
      { t: refreshToken },
      headers,
    );
    expect(out.data).toEqual({ logout: true });
    const again = await graphql(service.current.url, REFRESH, { t: refreshToken });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'REFRESH_TOKEN_REVOKED' });
  });

  it('creates users, refuses duplicates, and ends the sessions of a deactivated user', async () => {
    const admin = await signIn('admin');
    const created = await graphql(
      service.current.url,
      'mutation ($i: CreateUserInput!) { createUser(input: $i) { id email role active } }',
      { i: { email: ' New.Clerk@Example.com ', name: 'New Clerk', role: 'STAFF', password: 'correct horse battery' } },
      admin.headers,
    );
    expect(created.data.createUser).toMatchObject({ email: 'new.clerk@example.com', role: 'STAFF', active: true });
    const duplicate = await graphql(
      service.current.url,
      'mutation ($i: CreateUserInput!) { createUser(input: $i) { id } }',
      { i: { email: 'new.clerk@example.com', name: 'Again', role: 'STAFF', password: 'correct horse battery' } },
      admin.headers,
    );
    expect(duplicate.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const clerk = await login('new.clerk@example.com', 'correct horse battery');
    const clerkHeaders = { authorization: `Bearer ${clerk.data.login.accessToken}` };
    expect((await graphql(service.current.url, '{ me { email } }', {}, clerkHeaders)).data.me.email).toBe(
      'new.clerk@example.com',
    );
    const off = await graphql(
      service.current.url,
      'mutation ($id: ID!) { updateUser(id: $id, input: { active: false }) { active } }',
      { id: created.data.createUser.id },
      admin.headers,
    );
    expect(off.data.updateUser.active).toBe(false);
    const after = await graphql(service.current.url, '{ me { email } }', {}, clerkHeaders);
    expect(after.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'SESSION_REVOKED' });
    expect(
      (await graphql(service.current.url, REFRESH, { t: clerk.data.login.refreshToken })).errors?.[0]?.extensions?.code,
    ).toBe('UNAUTHENTICATED');
    expect((await login('new.clerk@example.com', 'correct horse battery')).errors?.[0]?.extensions?.code).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('shows an email only to its owner and to admins', async () => {
    const staff = demo.users.find((u) => u.role === 'STAFF')!;
    const viewer = await signIn('viewer');
    const other = await graphql(
      service.current.url,
      `
        query ($r: [_Any!]!) {
          _entities(representations: $r) {
            ... on User {
              name
              email
            }
          }
        }
      `,
      { r: [{ __typename: 'User', id: staff.id }] },
      viewer.headers,
    );
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const own = await graphql(service.current.url, '{ me { email } }', {}, viewer.headers);
    expect(own.data.me.email).toBe('viewer@stockgraph.local');
  });

  it('changes a password and signs out the other sessions', async () => {
    const here = await signIn('staff');
    const elsewhere = await signIn('staff');
    const changed = await graphql(
      service.current.url,
      'mutation { changePassword(currentPassword: "stockgraph", newPassword: "a much longer secret") }',
      {},
      here.headers,
    );
    expect(changed.data).toEqual({ changePassword: true });
    expect(
      (await graphql(service.current.url, '{ me { id } }', {}, elsewhere.headers)).errors?.[0]?.extensions?.code,
    ).toBe('UNAUTHENTICATED');
    expect((await graphql(service.current.url, '{ me { id } }', {}, here.headers)).errors).toBeUndefined();
    expect((await login('staff@stockgraph.local', 'a much longer secret')).errors).toBeUndefined();
  });

  it('publishes its public key as a JWKS and introspects sessions', async () => {
    const jwks = (await (await fetch(new URL('/.well-known/jwks.json', service.current.url))).json()) as {
      keys: Record<string, string>[];
    };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const { headers } = await signIn('admin');
    expect((await fetch(new URL('/session', service.current.url), { headers })).status).toBe(200);
    expect((await fetch(new URL('/session', service.current.url))).status).toBe(401);
  });
});
