import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { authorizationCache } from './authorization-cache.js';

const operationOf = (document: ReturnType<typeof parse>) =>
  document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;

/** A decision function that counts how often it is asked. */
function counting() {
  let calls = 0;
  return {
    calls: () => calls,
    compute: () => {
      calls += 1;
      return { denied: [], unauthenticated: false };
    },
  };
}

describe('authorization decisions per document and scopes', () => {
  it('decides a document once per set of scopes, and again after the rules change', () => {
    const cache = authorizationCache();
    const document = parse('query Q { products(first: 1) { totalCount } }');
    const { calls, compute } = counting();
    for (let i = 0; i < 3; i++) cache.decide(document, operationOf(document), ['read:products'], compute);
    expect(calls()).toBe(1);
    cache.decide(document, operationOf(document), ['read:products', 'read:cost'], compute);
    cache.decide(document, operationOf(document), null, compute);
    expect(calls()).toBe(3);
    cache.clear();
    cache.decide(document, operationOf(document), ['read:products'], compute);
    expect(calls()).toBe(4);
  });

  it('decides every request again when @skip/@include read a variable', () => {
    const cache = authorizationCache();
    const document = parse('query Q($c: Boolean!) { products(first: 1) { totalCount @include(if: $c) } }');
    const { calls, compute } = counting();
    cache.decide(document, operationOf(document), ['read:products'], compute);
    cache.decide(document, operationOf(document), ['read:products'], compute);
    expect(calls()).toBe(2);
  });

  it('keeps documents apart even when their text is equal', () => {
    const cache = authorizationCache();
    const { calls, compute } = counting();
    for (const document of [parse('{ me { id } }'), parse('{ me { id } }')])
      cache.decide(document, operationOf(document), null, compute);
    expect(calls()).toBe(2);
  });
});
