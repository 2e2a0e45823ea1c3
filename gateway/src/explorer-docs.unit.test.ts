import { readFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { apiSchemaOf } from '@stockgraph/graphql-kit/api-schema';
import { describeRule, explorerIntrospection } from './explorer-docs.js';

const SDL = `
  type Query {
    "Products." products: [Product!]! @requiresScopes(scopes: [["role:viewer"]])
    "Signs in." login: String @policy(policies: [["public"]])
    me: String @authenticated
    secret: String
  }
  type Mutation {
    "Cancels." cancelOrder: Boolean @requiresScopes(scopes: [["role:staff"]]) @policy(policies: [["order-owner-or-manager"]])
  }
  type Product {
    "What one unit costs us.\\n\\nNever shown to customers." costPrice: String @requiresScopes(scopes: [["role:manager"]])
  }
`;
const API = `
  type Query { "Products." products: [Product!]! "Signs in." login: String me: String secret: String }
  type Mutation { "Cancels." cancelOrder: Boolean }
  type Product { "What one unit costs us.\\n\\nNever shown to customers." costPrice: String }
`;

function descriptions(): Map<string, string | null | undefined> {
  const introspection = explorerIntrospection(buildSchema(API), SDL);
  const found = new Map<string, string | null | undefined>();
  for (const type of introspection.__schema.types)
    if (type.kind === 'OBJECT' && !type.name.startsWith('__'))
      for (const field of type.fields) found.set(`${type.name}.${field.name}`, field.description);
  return found;
}

describe('the explorer docs', () => {
  it('say who may use every field, from the same directives the gateway enforces', () => {
    const docs = descriptions();
    expect(docs.get('Query.products')).toBe('Products. Readable by: VIEWER and up.');
    expect(docs.get('Query.login')).toBe('Signs in. Readable by: anyone, signed in or not.');
    expect(docs.get('Query.me')).toBe('Readable by: any signed-in user.');
    expect(docs.get('Query.secret')).toBe('Readable by: nobody (the field has no rule, so it is denied).');
    expect(docs.get('Mutation.cancelOrder')).toBe(
      'Cancels. Callable by: STAFF and up, where the "order-owner-or-manager" policy allows (checked by the owning service).',
    );
    // In the first paragraph, the one a type's field list shows.
    expect(docs.get('Product.costPrice')).toBe(
      'What one unit costs us. Readable by: MANAGER and up.\n\nNever shown to customers.',
    );
  });

  it('describe alternatives and scopes that are not roles', () => {
    const rule = { authenticated: false, scopes: [['role:admin'], ['audit:read', 'role:staff']], policies: null };
    expect(describeRule(rule, new Set())).toBe('ADMIN and up, or scope "audit:read" with STAFF and up');
  });

  it('give every field of the composed supergraph a rule', () => {
    const supergraph = readFileSync(new URL('../../schema/supergraph.graphql', import.meta.url), 'utf8');
    const introspection = explorerIntrospection(apiSchemaOf(supergraph), supergraph);
    const fields = introspection.__schema.types.flatMap((type) =>
      (type.kind === 'OBJECT' || type.kind === 'INTERFACE') && !type.name.startsWith('__')
        ? type.fields.map((field) => ({ field: `${type.name}.${field.name}`, description: field.description ?? '' }))
        : [],
    );
    expect(fields.length).toBeGreaterThan(100);
    expect(fields.filter((f) => !/ by: /.test(f.description) || f.description.includes('nobody'))).toEqual([]);
  });
});
