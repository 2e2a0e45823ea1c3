import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { scopesFor } from './roles.js';
import { dataPolicies, decide, readFieldRules, type FieldRule } from './rules.js';

const SDL = parse(`
  type Query {
    login: String @policy(policies: [["public"]])
    me: String @authenticated
    products: String @requiresScopes(scopes: [["role:viewer"]])
    orderStats: String @requiresScopes(scopes: [["role:manager"]])
    cancelOrder: String @requiresScopes(scopes: [["role:staff"]]) @policy(policies: [["order-owner-or-manager"]])
    either: String @requiresScopes(scopes: [["role:admin"], ["role:manager", "role:staff"]])
    undecorated: String
  }
  extend type User {
    email: String @requiresScopes(scopes: [["role:viewer"]]) @policy(policies: [["self-or-admin"]])
  }
`);
const rules = readFieldRules(SDL);
const as = (role: Parameters<typeof scopesFor>[0]) => ({ scopes: scopesFor(role) });
const rule = (coordinate: string) => rules.get(coordinate);
const DATA = new Set(['order-owner-or-manager', 'self-or-admin']);

describe('readFieldRules', () => {
  it('reads every authorization directive into a rule per coordinate, extensions included', () => {
    expect(rule('Query.login')).toEqual({ authenticated: false, scopes: null, policies: [['public']] });
    expect(rule('Query.me')).toEqual({ authenticated: true, scopes: null, policies: null });
    expect(rule('Query.either')?.scopes).toEqual([['role:admin'], ['role:manager', 'role:staff']]);
    expect(rule('User.email')).toEqual({
      authenticated: false,
      scopes: [['role:viewer']],
      policies: [['self-or-admin']],
    });
  });

  it('has no rule for a field without directives', () => {
    expect(rules.has('Query.undecorated')).toBe(false);
  });
});

describe('dataPolicies', () => {
  it('names every policy the rules use except public', () => {
    expect(dataPolicies(rules.values())).toEqual(DATA);
  });

  it('is empty when only public is used', () => {
    expect(dataPolicies([{ authenticated: false, scopes: null, policies: [['public']] }])).toEqual(new Set());
  });
});

describe('decide', () => {
  it('denies a field without a rule: unauthenticated when anonymous, forbidden when signed in', () => {
    expect(decide(undefined, null, DATA)).toBe('unauthenticated');
    expect(decide(undefined, as('ADMIN'), DATA)).toBe('forbidden');
  });

  it('lets anyone use a public field', () => {
    expect(decide(rule('Query.login'), null, DATA)).toBe('allow');
    expect(decide(rule('Query.login'), as('VIEWER'), DATA)).toBe('allow');
  });

  it('asks an anonymous caller to sign in for anything else', () => {
    for (const field of ['Query.me', 'Query.products', 'Query.cancelOrder', 'User.email'])
      expect(decide(rule(field), null, DATA), field).toBe('unauthenticated');
  });

  it('allows @authenticated to every role', () => {
    expect(decide(rule('Query.me'), as('VIEWER'), DATA)).toBe('allow');
  });

  it('checks scopes against the role hierarchy', () => {
    expect(decide(rule('Query.orderStats'), as('STAFF'), DATA)).toBe('forbidden');
    expect(decide(rule('Query.orderStats'), as('MANAGER'), DATA)).toBe('allow');
    expect(decide(rule('Query.orderStats'), as('ADMIN'), DATA)).toBe('allow');
  });

  it('reads the outer scope list as OR and the inner as AND', () => {
    expect(decide(rule('Query.either'), as('VIEWER'), DATA)).toBe('forbidden');
    expect(decide(rule('Query.either'), { scopes: ['role:staff'] }, DATA)).toBe('forbidden');
    expect(decide(rule('Query.either'), { scopes: ['role:manager', 'role:staff'] }, DATA)).toBe('allow');
    expect(decide(rule('Query.either'), { scopes: ['role:admin'] }, DATA)).toBe('allow');
  });

  it('passes a data policy to the owning service once the scopes pass', () => {
    expect(decide(rule('Query.cancelOrder'), as('VIEWER'), DATA)).toBe('forbidden');
    expect(decide(rule('Query.cancelOrder'), as('STAFF'), DATA)).toBe('allow');
    expect(decide(rule('User.email'), as('VIEWER'), DATA)).toBe('allow');
  });

  it('fails closed on a policy nobody decides', () => {
    expect(decide(rule('Query.cancelOrder'), as('ADMIN'), new Set())).toBe('forbidden');
    const mixed: FieldRule = { authenticated: false, scopes: null, policies: [['public', 'self-or-admin']] };
    expect(decide(mixed, null, DATA)).toBe('unauthenticated');
    expect(decide(mixed, as('ADMIN'), DATA)).toBe('forbidden');
  });
});
