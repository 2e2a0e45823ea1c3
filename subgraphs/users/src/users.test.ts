import { DEMO_PASSWORD, generateDemoData } from '@stockgraph/demo-data';
import { graphql, useSubgraph } from '@stockgraph/testkit';
import { describe, expect, it } from 'vitest';
import { startUsers } from './app.js';
import { users } from './db/schema.js';
import { verifyPassword } from './passwords.js';

const demo = generateDemoData();
const service = useSubgraph('users', startUsers);

describe('users subgraph', () => {
  it('resolves User entities by @key(fields: "id")', async () => {
    const admin = demo.users.find((u) => u.role === 'ADMIN')!;
    const result = await graphql(
      service.current.url,
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { id email role active } } }`,
      { r: [{ __typename: 'User', id: admin.id }, { __typename: 'User', id: '0190b3c4-0000-7000-8000-000000000000' }] },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data._entities).toEqual([{ id: admin.id, email: 'admin@stockgraph.local', role: 'ADMIN', active: true }, null]);
  });

  it('seeds one demo user per role with an argon2id hash of the demo password', async () => {
    const rows = await service.current.db.select().from(users);
    expect(rows.map((r) => r.role).sort()).toEqual(['ADMIN', 'MANAGER', 'STAFF', 'VIEWER']);
    for (const row of rows) {
      expect(row.passwordHash).toMatch(/^\$argon2id\$/);
      expect(await verifyPassword(row.passwordHash, DEMO_PASSWORD)).toBe(true);
      expect(await verifyPassword(row.passwordHash, 'wrong')).toBe(false);
    }
  });

  it('pages users by email and answers me with null without a session', async () => {
    const first = await graphql(service.current.url, `{ me { id } users(first: 3) { totalCount edges { node { email } } pageInfo { hasNextPage endCursor } } }`);
    expect(first.data.me).toBeNull();
    expect(first.data.users.totalCount).toBe(4);
    expect(first.data.users.edges.map((e: any) => e.node.email)).toEqual([
      'admin@stockgraph.local',
      'manager@stockgraph.local',
      'staff@stockgraph.local',
    ]);
    const rest = await graphql(service.current.url, `query ($a: String) { users(first: 3, after: $a) { edges { node { email } } pageInfo { hasNextPage } } }`, {
      a: first.data.users.pageInfo.endCursor,
    });
    expect(rest.data.users.edges.map((e: any) => e.node.email)).toEqual(['viewer@stockgraph.local']);
    expect(rest.data.users.pageInfo.hasNextPage).toBe(false);
  });
});
