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

  it('name a statement of common table expressions after its first write', () => {
    expect(
      statementSpanName(
        'with wanted as (select * from unnest($1::uuid[])), claim as (insert into orders.idempotency_keys (user_id) select $2 returning 1), created as (insert into orders.orders (id) select $3 from claim) select 1',
      ),
    ).toBe('INSERT orders.idempotency_keys');
    expect(
      statementSpanName('with moved as (update orders.orders o set status = $1 returning o.id) select * from moved'),
    ).toBe('UPDATE orders.orders');
    expect(statementSpanName('with x as (select 1 from orders.orders) select * from x')).toBe('WITH');
  });
});
