import { readFileSync } from 'node:fs';
import { dataPolicies, readFieldRules, scopesFor, type Identity, type Role } from '@stockgraph/auth';
import { buildSchema, Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { deniedFields } from './authorization.plugin.js';

const SDL = `
  type Query {
    products: [Product] @requiresScopes(scopes: [["role:viewer"]])
    me: User @authenticated
    login: String @policy(policies: [["public"]])
  }
  type Product {
    sku: String @requiresScopes(scopes: [["role:viewer"]])
    costPrice: String @requiresScopes(scopes: [["role:manager"]])
  }
  type User {
    email: String @requiresScopes(scopes: [["role:viewer"]]) @policy(policies: [["brand-new-policy"]])
  }
`;
const schema = buildSchema(SDL, { assumeValidSDL: true });
const rules = readFieldRules(parse(SDL));
const policies = dataPolicies(rules.values());

const identity = (role: Role): Identity => ({ userId: 'u', role, scopes: scopesFor(role), sessionId: 's' });

function check(source: string, who: Identity | null, variables: Record<string, unknown> = {}) {
  const document = parse(source);
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  )!;
  const fragments = document.definitions.filter(
    (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION,
  );
  return deniedFields(schema, rules, policies, operation, fragments, variables, who);
}

describe('policy discovery', () => {
  it('finds the committed supergraph’s data policies in its @policy directives', () => {
    const supergraph = parse(readFileSync(new URL('../../schema/supergraph.graphql', import.meta.url), 'utf8'));
    expect(dataPolicies(readFieldRules(supergraph).values())).toEqual(
      new Set(['self-or-admin', 'order-owner-or-manager', 'order-owner-or-staff']),
    );
  });

  it('lets a signed-in caller through a policy a subgraph just added, with no gateway change', () => {
    expect(check('{ me { email } }', identity('VIEWER')).denied).toEqual([]);
    expect(check('{ me { email } }', null)).toMatchObject({ unauthenticated: true });
  });
});

describe('deniedFields', () => {
  it('names every denied path, aliases included', () => {
    const { denied, unauthenticated } = check('{ products { sku cost: costPrice } }', identity('STAFF'));
    expect(denied).toEqual([{ path: 'products.cost', field: 'Product.costPrice' }]);
    expect(unauthenticated).toBe(false);
  });

  it('sees fields inside fragments and inline fragments', () => {
    const viaFragment = check('{ products { ...P } } fragment P on Product { costPrice }', identity('VIEWER'));
    expect(viaFragment.denied.map((d) => d.field)).toEqual(['Product.costPrice']);
    const inline = check('{ products { ... on Product { costPrice } } }', identity('VIEWER'));
    expect(inline.denied.map((d) => d.field)).toEqual(['Product.costPrice']);
  });

  it('skips a field only when @skip/@include certainly leave it out', () => {
    const query = 'query ($hide: Boolean!) { products { costPrice @skip(if: $hide) } }';
    expect(check(query, identity('VIEWER'), { hide: true }).denied).toEqual([]);
    expect(check(query, identity('VIEWER'), { hide: false }).denied).toHaveLength(1);
    // A variable that does not coerce counts as included: doubt means checking.
    expect(check(query, identity('VIEWER'), { hide: 'yes' }).denied).toHaveLength(1);
  });

  it('allows public fields to anonymous callers and asks them to sign in for the rest', () => {
    expect(check('{ login }', null).denied).toEqual([]);
    const result = check('{ login products { sku } }', null);
    expect(result).toMatchObject({ unauthenticated: true, denied: [{ path: 'products', field: 'Query.products' }] });
  });

  it('does not loop on a fragment cycle', () => {
    const cyclic = '{ products { ...A } } fragment A on Product { sku ...B } fragment B on Product { ...A }';
    expect(check(cyclic, identity('VIEWER')).denied).toEqual([]);
  });
});
