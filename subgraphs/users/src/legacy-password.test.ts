import { createHash } from 'node:crypto';
import { newId } from '@stockgraph/ids';
import { graphql, useSubgraph } from '@stockgraph/testkit';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { parseUsersEnv, startUsers } from './app.js';
import { users } from './db/schema.js';
import { argon2Operations } from './domain/passwords.js';

const service = useSubgraph('users', startUsers, (source) => parseUsersEnv(source));
const LOGIN = 'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }';

// The legacy store's format, written out here rather than taken from the code under test.
const legacyHash = (salt: string, password: string) =>
  `sha256$${salt}$${createHash('sha256')
    .update(salt + password, 'utf8')
    .digest('hex')}`;

describe('passwords imported from the legacy store', () => {
  it('sign in with the old password and are upgraded to argon2id at the first successful sign-in', async () => {
    const id = newId();
    const now = new Date();
    await service.current.db.insert(users).values({
      id,
      email: 'legacy.clerk@shop.example',
      name: 'clerk',
      role: 'STAFF',
      passwordHash: legacyHash('s4lt', 'old-secret-1'),
      createdAt: now,
      updatedAt: now,
    });
    const stored = async () => (await service.current.db.select().from(users).where(eq(users.id, id)))[0]!.passwordHash;

    const wrong = await graphql(service.current.url, LOGIN, { e: 'legacy.clerk@shop.example', p: 'old-secret-2' });
    expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await stored()).toMatch(/^sha256\$/);

    const right = await graphql(service.current.url, LOGIN, { e: 'legacy.clerk@shop.example', p: 'old-secret-1' });
    expect(right.errors).toBeUndefined();
    expect(right.data.login.accessToken).toBeTruthy();
    expect(await stored()).toMatch(/^\$argon2id\$/);

    const again = await graphql(service.current.url, LOGIN, { e: 'legacy.clerk@shop.example', p: 'old-secret-1' });
    expect(again.errors).toBeUndefined();
  });

  it('answer a wrong password with the same argon2 work as any other account or an unknown email (issue 28, finding 6)', async () => {
    const now = new Date();
    await service.current.db.insert(users).values({
      id: newId(),
      email: 'legacy.timing@shop.example',
      name: 'timing',
      role: 'STAFF',
      passwordHash: legacyHash('pepper', 'right-one-1'),
      createdAt: now,
      updatedAt: now,
    });
    // A wrong password costs one argon2 verification however the account's password is stored: the
    // answer takes as long, and says nothing about which accounts still have the weak legacy hash.
    const cost = async (email: string) => {
      const before = argon2Operations();
      const answer = await graphql(service.current.url, LOGIN, { e: email, p: 'wrong-guess-1' });
      expect(answer.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      return argon2Operations() - before;
    };
    expect(await cost('legacy.timing@shop.example')).toBe(1);
    expect(await cost('viewer@stockgraph.local')).toBe(1);
    expect(await cost('nobody@shop.example')).toBe(1);
  });
});
