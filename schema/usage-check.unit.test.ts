import { describe, expect, it } from 'vitest';
import { usageTargets } from './usage-check.js';

describe('the coordinates a breaking change hits', () => {
  it('maps inspector paths to schema coordinates, and requirements to whoever uses the parent', () => {
    expect(usageTargets({ type: 'FIELD_REMOVED', path: 'Product.unitsSold' })).toEqual({
      coordinates: ['Product.unitsSold'],
      types: [],
    });
    expect(usageTargets({ type: 'FIELD_ARGUMENT_REMOVED', path: 'Query.orders.first' })).toEqual({
      coordinates: ['Query.orders(first:)'],
      types: [],
    });
    // A new required argument breaks every caller of the field, whatever arguments it passed.
    expect(usageTargets({ type: 'FIELD_ARGUMENT_ADDED', path: 'Query.orders.region' })).toEqual({
      coordinates: ['Query.orders'],
      types: [],
    });
    expect(
      usageTargets({
        type: 'FIELD_ARGUMENT_TYPE_CHANGED',
        path: 'Query.orders.status',
        meta: { newArgumentType: 'OrderStatus!' },
      }),
    ).toEqual({ coordinates: ['Query.orders(status:)', 'Query.orders'], types: [] });
    expect(usageTargets({ type: 'ENUM_VALUE_REMOVED', path: 'OrderStatus.SHIPPED' })).toEqual({
      coordinates: ['OrderStatus.SHIPPED'],
      types: [],
    });
    expect(usageTargets({ type: 'INPUT_FIELD_ADDED', path: 'OrderFilter.region' })).toEqual({
      coordinates: [],
      types: ['OrderFilter'],
    });
    expect(usageTargets({ type: 'TYPE_REMOVED', path: 'Customer' })).toEqual({ coordinates: [], types: ['Customer'] });
    expect(
      usageTargets({
        type: 'UNION_MEMBER_REMOVED',
        path: 'SearchResult',
        meta: { removedUnionMemberTypeName: 'Order' },
      }),
    ).toEqual({ coordinates: [], types: ['Order'] });
    // A directive on a member concerns the member.
    expect(
      usageTargets({ type: 'DIRECTIVE_USAGE_FIELD_DEFINITION_ADDED', path: 'Product.cost.@requiresScopes' }),
    ).toEqual({ coordinates: ['Product.cost'], types: [] });
  });

  it('says nothing where a path names no coordinate, so the change is gated as without usage', () => {
    expect(usageTargets({ type: 'DIRECTIVE_REMOVED', path: '@cacheControl' })).toBeUndefined();
    expect(usageTargets({ type: 'SCHEMA_QUERY_TYPE_CHANGED' })).toBeUndefined();
    expect(usageTargets({ type: 'TYPE_DESCRIPTION_CHANGED', path: 'Customer' })).toBeUndefined();
  });
});
