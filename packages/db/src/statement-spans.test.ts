import { describe, expect, it } from 'vitest';
import { statementSpanName } from './statement-spans.js';

describe('SQL span names', () => {
  it('name the operation and the table, never a value', () => {
    expect(statementSpanName('insert into "orders"."orders" ("id") values ($1)')).toBe('INSERT orders.orders');
    expect(statementSpanName('select "id" from "inventory"."products" where "sku" = $1')).toBe(
      'SELECT inventory.products',
    );
    expect(statementSpanName('update "orders"."orders" set "status" = $1')).toBe('UPDATE orders.orders');
    expect(statementSpanName('select 1')).toBe('SELECT');
  });
});
