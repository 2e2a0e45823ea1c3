import { DEMO_PASSWORD } from '@stockgraph/demo-data';
import { graphql, useSubgraph } from '@stockgraph/testkit';
import { rowsOf } from '@stockgraph/db';
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

/** A STAFF account whose password is 'the right password'. */
async function createStaff(email: string, name: string, admin: Record<string, string>) {
  const created = await graphql(
    service.current.url,
    'mutation ($i: CreateUserInput!) { createUser(input: $i) { id } }',
    { i: { email, name, role: 'STAFF', password: 'the right password' } },
    admin,
  );
  expect(created.errors).toBeUndefined();
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
    await createStaff(email, 'Unlock Me', admin);
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

  it('an address locked for failing on many accounts still lets in those who signed in from it, and an admin can clear it (issue 28, finding 16)', async () => {
    const office = '192.0.2.60';
    const admin = await adminHeaders();
    const email = 'office.worker@stockgraph.local';
    await createStaff(email, 'Office Worker', admin);
    expect(codeOf(await login(email, 'the right password', office))).toBe('OK');
    // Someone behind the same address sprays guesses over many accounts: the address is locked out.
    const codes: string[] = [];
    for (let i = 0; i < 13; i++) codes.push(codeOf(await login(`spray-${i}@example.com`, 'guess', office)));
    expect(codes.at(-1)).toBe('RATE_LIMITED');
    expect(codeOf(await login('staff@stockgraph.local', DEMO_PASSWORD, office))).toBe('RATE_LIMITED');
    // The worker who signed in from there before still gets in.
    expect(codeOf(await login(email, 'the right password', office))).toBe('OK');
    // An admin lifts the address's lock for everyone else behind it; a malformed address is refused.
    const UNLOCK = 'mutation ($e: String!, $a: String) { unlockSignIn(email: $e, address: $a) }';
    const bad = await graphql(service.current.url, UNLOCK, { e: email, a: '192.0.2.60; drop' }, admin);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'address' });
    const unlocked = await graphql(service.current.url, UNLOCK, { e: 'staff@stockgraph.local', a: office }, admin);
    expect(unlocked.data).toEqual({ unlockSignIn: true });
    expect(codeOf(await login('staff@stockgraph.local', DEMO_PASSWORD, office))).toBe('OK');
  });

  it('purges sign-in counts and locks that ran out, and sessions and refresh tokens ended a week ago (issue 28, finding 16)', async () => {
    const db = service.current.db;
    const rows = async () => {
      const [counts] = rowsOf<{ throttle: number; sessions: number; tokens: number }>(
        await db.execute(sql`select
          (select count(*)::int from users.login_throttle where key like '%purge.me%') as throttle,
          (select count(*)::int from users.sessions s join users.users u on u.id = s.user_id where u.email = 'viewer@stockgraph.local') as sessions,
          (select count(*)::int from users.refresh_tokens t join users.sessions s on s.id = t.session_id
             join users.users u on u.id = s.user_id where u.email = 'viewer@stockgraph.local') as tokens`),
      );
      return counts!;
    };
    // Failures whose window and lock ran out, one still locked, and a session that ended eight days ago.
    await login('purge.me@example.com', 'guess', '203.0.113.99');
    await login('purge.me.still@example.com', 'guess', '203.0.113.98');
    await db.execute(sql`update users.login_throttle set window_started_at = now() - interval '2 days'
      where key like '%purge.me@%'`);
    await db.execute(sql`update users.login_throttle set window_started_at = now() - interval '2 days',
      locked_until = now() + interval '1 hour' where key like '%purge.me.still@%'`);
    const old = await login('viewer@stockgraph.local', DEMO_PASSWORD, '192.0.2.61');
    await login('viewer@stockgraph.local', DEMO_PASSWORD, '192.0.2.61');
    expect(old.data.login.accessToken).toBeTruthy();
    await db.execute(sql`update users.sessions set expires_at = now() - interval '8 days'
      where id = (select s.id from users.sessions s join users.users u on u.id = s.user_id
        where u.email = 'viewer@stockgraph.local' order by s.created_at limit 1)`);
    const before = await rows();
    const removed = await service.current.users.purgeEnded(7 * 86_400_000, 1000);
    const after = await rows();
    expect(removed).toBeGreaterThan(0);
    expect(after.throttle).toBe(before.throttle - 2); // the account and pair counts of purge.me
    expect(after.sessions).toBe(before.sessions - 1);
    expect(after.tokens).toBeLessThan(before.tokens);
    // The live session and the lock still in force stay.
    expect(after.sessions).toBeGreaterThan(0);
    const [still] = rowsOf<{ n: number }>(
      await db.execute(
        sql`select count(*)::int as n from users.login_throttle where key like '%purge.me.still@%' and locked_until > now()`,
      ),
    );
    expect(still!.n).toBeGreaterThan(0);
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
