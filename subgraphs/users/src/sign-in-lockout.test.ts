import { DEMO_PASSWORD } from '@stockgraph/demo-data';
import { graphql, useSubgraph } from '@stockgraph/testkit';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { parseUsersEnv, startUsers } from './app.js';

/**
 * Issue 8 findings 6 and 10: an attacker must not be able to lock the real user out, and a stolen
 * access token must not buy unlimited guesses of the current password. The client address is the one
 * in X-Forwarded-For, believed here because the test calls from loopback (TRUST_PROXY's default).
 */
const service = useSubgraph('users', startUsers, (source) =>
  parseUsersEnv({ ...source, LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_SECONDS: '60' }),
);

const LOGIN = 'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }';

const login = (email: string, password: string, from: string) =>
  graphql(service.current.url, LOGIN, { e: email, p: password }, { 'x-forwarded-for': from });

const codeOf = (result: Awaited<ReturnType<typeof login>>) => result.errors?.[0]?.extensions?.code ?? 'OK';

async function adminHeaders() {
  const result = await login('admin@stockgraph.local', DEMO_PASSWORD, '10.9.9.9');
  return { authorization: `Bearer ${result.data.login.accessToken}` };
}

/** Lets every current lock of this account run out, as if its time had passed. */
async function expireLocks(email: string) {
  await service.current.db.execute(
    sql`update users.login_throttle set locked_until = now() - interval '1 second' where key like ${`%${email}%`} and key not like 'known:%'`,
  );
}

describe('sign-in lockout an attacker cannot turn against the victim', () => {
  it('locks the guessing source out of the account, not the real user at another address', async () => {
    const email = 'manager@stockgraph.local';
    for (let i = 0; i < 3; i++) expect(codeOf(await login(email, `guess-${i}`, '203.0.113.7'))).toBe('UNAUTHENTICATED');
    const attacker = await login(email, DEMO_PASSWORD, '203.0.113.7');
    expect(attacker.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(attacker.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    expect(codeOf(await login(email, DEMO_PASSWORD, '198.51.100.20'))).toBe('OK');
  });

  it('backs off exponentially: each failure after the lock doubles it', async () => {
    const email = 'staff@stockgraph.local';
    const from = '203.0.113.8';
    for (let i = 0; i < 3; i++) await login(email, `guess-${i}`, from);
    const waits: number[] = [];
    for (let round = 0; round < 3; round++) {
      const refused = await login(email, 'still-guessing', from);
      waits.push(Number(refused.errors?.[0]?.extensions?.retryAfterSeconds));
      await expireLocks(email);
      expect(codeOf(await login(email, `after-lock-${round}`, from))).toBe('UNAUTHENTICATED');
    }
    expect(waits[0]).toBeGreaterThan(55);
    expect(waits[0]).toBeLessThanOrEqual(60);
    expect(waits[1]).toBeGreaterThan(110);
    expect(waits[2]).toBeGreaterThan(230);
  });

  it('a distributed attack locks failed sources only; known-good and new sources still get in', async () => {
    const email = 'viewer@stockgraph.local';
    // The user signs in from the office once: that address becomes known good.
    expect(codeOf(await login(email, DEMO_PASSWORD, '192.0.2.10'))).toBe('OK');
    // Twelve attacker addresses, one guess each: the account is now under attack.
    for (let i = 0; i < 12; i++)
      expect(codeOf(await login(email, `spray-${i}`, `198.18.0.${i + 1}`))).toBe('UNAUTHENTICATED');
    // An attacker address that failed is refused even with the right password...
    expect(codeOf(await login(email, DEMO_PASSWORD, '198.18.0.1'))).toBe('RATE_LIMITED');
    // ...the user's known address is not, even after a typo, and neither is a new one.
    expect(codeOf(await login(email, 'a typo', '192.0.2.10'))).toBe('UNAUTHENTICATED');
    expect(codeOf(await login(email, DEMO_PASSWORD, '192.0.2.10'))).toBe('OK');
    expect(codeOf(await login(email, DEMO_PASSWORD, '192.0.2.99'))).toBe('OK');
  });

  it('lets an admin unlock an account (unlockSignIn), and only an admin', async () => {
    const email = 'unlock.me@stockgraph.local';
    const admin = await adminHeaders();
    const created = await graphql(
      service.current.url,
      'mutation ($i: CreateUserInput!) { createUser(input: $i) { id } }',
      { i: { email, name: 'Unlock Me', role: 'STAFF', password: 'the right password' } },
      admin,
    );
    expect(created.errors).toBeUndefined();
    for (let i = 0; i < 4; i++) await login(email, `guess-${i}`, '203.0.113.9');
    expect(codeOf(await login(email, 'the right password', '203.0.113.9'))).toBe('RATE_LIMITED');
    const UNLOCK = 'mutation ($e: String!) { unlockSignIn(email: $e) }';
    const staff = await login(email, 'the right password', '192.0.2.50');
    const denied = await graphql(
      service.current.url,
      UNLOCK,
      { e: email },
      { authorization: `Bearer ${staff.data.login.accessToken}` },
    );
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unlocked = await graphql(service.current.url, UNLOCK, { e: email }, admin);
    expect(unlocked.data).toEqual({ unlockSignIn: true });
    expect(codeOf(await login(email, 'the right password', '203.0.113.9'))).toBe('OK');
  });

  it('counts attempts in metrics by outcome only, never by email', async () => {
    const text = await (await fetch(new URL('/metrics', service.current.url))).text();
    const value = (outcome: string) =>
      Number(
        new RegExp(`stockgraph_sign_in_attempts_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0,
      );
    expect(value('success')).toBeGreaterThan(0);
    expect(value('invalid')).toBeGreaterThan(0);
    expect(value('locked')).toBeGreaterThan(0);
    expect(text).not.toContain('@stockgraph.local');
  });
});

describe('changePassword guess limit', () => {
  it('refuses further guesses of the current password after the limit, even the right one', async () => {
    const signedIn = await login('admin@stockgraph.local', DEMO_PASSWORD, '192.0.2.77');
    const headers = { authorization: `Bearer ${signedIn.data.login.accessToken}` };
    const CHANGE = 'mutation ($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';
    for (let i = 0; i < 3; i++) {
      const wrong = await graphql(service.current.url, CHANGE, { c: `guess-${i}`, n: 'a brand new password' }, headers);
      expect(wrong.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    const limited = await graphql(
      service.current.url,
      CHANGE,
      { c: DEMO_PASSWORD, n: 'a brand new password' },
      headers,
    );
    expect(limited.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(limited.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    const text = await (await fetch(new URL('/metrics', service.current.url))).text();
    expect(text).toMatch(/stockgraph_password_change_attempts_total\{[^}]*outcome="locked"[^}]*\} [1-9]/);
  });
});
