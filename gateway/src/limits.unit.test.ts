/**
 * What the gateway's limits count, without a server: the root fields an operation runs (the rate
 * limits' unit for sign-ins and mutations, whatever fragments or aliases hide them) and the estimated
 * cost charged against a caller's budget, in the very unit MAX_QUERY_COST refuses at.
 */
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { buildSchema, type DocumentNode, type OperationDefinitionNode, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { estimatedCost } from './rate-limit.plugin.js';
import { rootFields } from './root-fields.js';

const schema = buildSchema(`
  type Query { products(first: Int): [Product!]! product(id: ID!): Product me: User }
  type Mutation { login(email: String!): String placeOrder(sku: String!): Order }
  type Product { id: ID! name: String! stock: Stock! }
  type Stock { onHand: Int! reserved: Int! }
  type User { id: ID! email: String! }
  type Order { id: ID! }
`);

const namesOf = (document: DocumentNode) => {
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
  return rootFields(operation.selectionSet, document).map((f) => f.alias?.value ?? f.name.value);
};

describe('root fields', () => {
  it('are found through inline fragments and named fragments, each alias on its own', () => {
    const document = parse(`
      mutation {
        a: login(email: "a@x") ... on Mutation { b: login(email: "b@x") }
        ...More
      }
      fragment More on Mutation { c: login(email: "c@x") placeOrder(sku: "S") { id } }
    `);
    expect(namesOf(document)).toEqual(['a', 'b', 'c', 'placeOrder']);
  });

  it('are only the top level: nested fields are not root fields', () => {
    expect(namesOf(parse('{ products { id stock { onHand } } me { id } }'))).toEqual(['products', 'me']);
  });

  it('stop at a fragment cycle instead of looping (validation refuses one anyway)', () => {
    const document = parse(`
      query { ...A }
      fragment A on Query { me { id } ...B }
      fragment B on Query { products { id } ...A }
    `);
    expect(namesOf(document)).toEqual(['me', 'products']);
  });
});

describe('estimated cost', () => {
  // graphql-armor throws its refusal out of validate(), or reports it as an error.
  const accepted = (document: DocumentNode, maxCost: number) => {
    try {
      return validate(schema, document, [costLimitRule({ maxCost })]).length === 0;
    } catch {
      return false;
    }
  };

  it('is the cost graphql-armor refuses above: accepted at that MAX_QUERY_COST, refused a hair below', () => {
    for (const text of [
      '{ me { id } }',
      '{ products { id name stock { onHand reserved } } }',
      '{ a: me { id } b: me { email } }',
    ]) {
      const document = parse(text);
      const cost = estimatedCost(schema, document);
      expect(cost, text).toBeGreaterThan(0);
      expect(accepted(document, cost), text).toBe(true);
      expect(accepted(parse(text), cost - 0.01), text).toBe(false);
    }
  });

  it('grows with fields and with depth, and is the same for the same document parsed again', () => {
    const shallow = estimatedCost(schema, parse('{ products { id } }'));
    const wider = estimatedCost(schema, parse('{ products { id name } }'));
    const deeper = estimatedCost(schema, parse('{ products { id stock { onHand } } }'));
    expect(wider).toBeGreaterThan(shallow);
    expect(deeper).toBeGreaterThan(wider);
    const document = parse('{ products { id name } }');
    expect(estimatedCost(schema, document)).toBe(wider);
    expect(estimatedCost(schema, document)).toBe(wider);
  });
});
