import { generateDemoData } from '@stockgraph/demo-data';
import { graphql, useSubgraph, type GraphQLResponse, type UntypedData } from '@stockgraph/testkit';
import { describe, expect, it } from 'vitest';
import { startCustomers } from './app.js';

const demo = generateDemoData();
const service = useSubgraph('customers', startCustomers);
/** Calls the subgraph with a manager's token (this file tests data, not rules). */
const call = async <T = UntypedData>(query: string, variables: Record<string, unknown> = {}) =>
  graphql<T>(service.current.url, query, variables, await service.as('MANAGER'));

interface CustomersPage {
  customers: {
    totalCount: number;
    edges: { node: { id: string; name: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

describe('customers subgraph', () => {
  it('resolves Customer entities by @key(fields: "id"), null for unknown ids', async () => {
    const [first, second] = demo.customers;
    const result = await call(
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id name tier } } }`,
      {
        r: [
          { __typename: 'Customer', id: second!.id },
          { __typename: 'Customer', id: '0190b3c4-0000-7000-8000-000000000000' },
          { __typename: 'Customer', id: first!.id },
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data._entities).toEqual([
      { id: second!.id, name: second!.name, tier: second!.tier },
      null,
      { id: first!.id, name: first!.name, tier: first!.tier },
    ]);
  });

  it('finds a customer by phone however the number is formatted', async () => {
    const customer = demo.customers[7]!;
    const spaced = `${customer.phone.slice(0, 3)} ${customer.phone.slice(3, 6)}-${customer.phone.slice(6)}`;
    const result = await call(`query ($p: String!) { customerByPhone(phone: $p) { id } }`, { p: spaced });
    expect(result.data.customerByPhone).toEqual({ id: customer.id });
  });

  it('pages through every customer exactly once, in name order', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let totalCount = 0;
    for (let guard = 0; guard < 20; guard++) {
      const page: GraphQLResponse<CustomersPage> = await call<CustomersPage>(
        `query ($after: String) { customers(first: 100, after: $after) { totalCount edges { node { id name } } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      expect(page.errors).toBeUndefined();
      const customers = page.data!.customers;
      totalCount = customers.totalCount;
      seen.push(...customers.edges.map((e) => e.node.id));
      if (!customers.pageInfo.hasNextPage) break;
      after = customers.pageInfo.endCursor;
    }
    expect(totalCount).toBe(demo.customers.length);
    expect(new Set(seen).size).toBe(demo.customers.length);
  });

  it('refuses malformed ids, cursors and page sizes with BAD_USER_INPUT', async () => {
    const cases = [
      `{ customer(id: "1 or 1=1") { id } }`,
      `{ customers(first: 0) { totalCount } }`,
      `{ customers(first: 101) { totalCount } }`,
      `{ customers(after: "not-a-cursor!") { totalCount } }`,
      `{ customers(after: "${Buffer.from('["x","y"]').toString('base64url')}") { totalCount } }`,
    ];
    for (const query of cases) {
      const result = await call(query);
      expect(result.errors?.[0]?.extensions?.code, query).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(result.errors)).not.toMatch(/stack|select|postgres/i);
    }
  });

  it('matches search terms literally, wildcards included', async () => {
    const result = await call(`{ customers(search: "%") { totalCount } }`);
    expect(result.data.customers.totalCount).toBe(0);
  });
});
