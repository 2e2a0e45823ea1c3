import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { shieldFromSchema } from './shield.js';

const SDL = parse(`
  type Query {
    login: String @policy(policies: [["public"]])
    user: User @requiresScopes(scopes: [["role:admin"]])
  }
  type User {
    email: String @requiresScopes(scopes: [["role:viewer"]]) @policy(policies: [["self-or-admin"]])
  }
`);

describe('shieldFromSchema', () => {
  it('refuses to start a service whose SDL names a policy it does not implement', () => {
    expect(() => shieldFromSchema(SDL, {})).toThrow(/self-or-admin/);
  });

  it('builds when every named policy has code (public needs none)', () => {
    expect(() => shieldFromSchema(SDL, { 'self-or-admin': () => true })).not.toThrow();
  });
});
