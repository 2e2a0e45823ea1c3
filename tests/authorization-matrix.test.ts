import { generateDemoData } from '@stockgraph/demo-data';
import { graphql, startStack, type GraphQLResponse, type Stack } from '@stockgraph/testkit';
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * DESIGN.md's authorization matrix, written down independently of the schema's directives: the least
 * role that may use each field (0 anyone, 1 any signed-in user, 2 STAFF, 3 MANAGER, 4 ADMIN). Reads of
 * the listed types default to 1, so a new field added without a rule in the SDL (denied by default)
 * disagrees with this table and fails the test; a new root field or type must be classified here.
 */
const WHO = ['ANONYMOUS', 'VIEWER', 'STAFF', 'MANAGER', 'ADMIN'] as const;
type Who = (typeof WHO)[number];

const EXPLICIT: Record<string, number> = {
  'Mutation.login': 0,
  'Mutation.refreshSession': 0,
  'AuthPayload.accessToken': 0,
  'AuthPayload.refreshToken': 0,
  'AuthPayload.expiresAt': 0,
  'AuthPayload.user': 0,
  'Query.me': 1,
  'Query.product': 1,
  'Query.productBySku': 1,
  'Query.stockMovement': 1,
  'Query.products': 1,
  'Query.order': 1,
  'Query.orders': 1,
  'Query.customer': 1,
  'Query.customers': 1,
  'Mutation.logout': 1,
  'Mutation.changePassword': 1,
  // Any signed-in user may send a batch: each of its operations is then authorized as if sent alone.
  'Mutation.submitBatch': 1,
  'Customer.phone': 2,
  'Customer.email': 2,
  'Customer.address': 2,
  'Query.customerByPhone': 2,
  'Mutation.createCustomer': 2,
  'Mutation.updateCustomer': 2,
  'Mutation.placeOrder': 2,
  'Mutation.receiveStock': 2,
  'Mutation.cancelOrder': 2,
  // Stocktakes: staff count the shelves and follow the progress; managers open and close them.
  'Mutation.recordStocktakeCount': 2,
  'Query.stocktake': 2,
  'Query.stocktakes': 2,
  'Product.costPrice': 3,
  'PriceChange.costPrice': 3,
  'Query.orderStats': 3,
  // Stock valued at cost: cost data, as costPrice.
  'Query.stockValuation': 3,
  'CategoryValuation.category': 3,
  'CategoryValuation.products': 3,
  'CategoryValuation.units': 3,
  'CategoryValuation.value': 3,
  'CategoryValuation.unvaluedUnits': 3,
  'Mutation.adjustStock': 3,
  'Mutation.createProduct': 3,
  'Mutation.updateProduct': 3,
  'Mutation.fulfillOrder': 3,
  'Mutation.openStocktake': 3,
  'Mutation.closeStocktake': 3,
  'Query.users': 4,
  'Query.user': 4,
  'Mutation.createUser': 4,
  'Mutation.updateUser': 4,
  'Mutation.unlockSignIn': 4,
};
/** Types whose fields any signed-in user may read unless EXPLICIT says otherwise. */
const READABLE =
  /^(Product|PriceChange|StockMovement|StockLevel|OfflineOutcome|Order|OrderItem|OrderRejection|RejectedProduct|Customer|User|PageInfo|OrderStatsBucket|\w+Connection|\w+Edge)$/;

/** Types whose fields STAFF and up may read: stocktakes and their lines. */
const STAFF_READABLE = /^(Stocktake|StocktakeLine|StocktakeProgress)$/;

function least(coordinate: string): number {
  if (coordinate in EXPLICIT) return EXPLICIT[coordinate]!;
  const [type] = coordinate.split('.');
  if (STAFF_READABLE.test(type!)) return 2;
  if (READABLE.test(type!)) return 1;
  throw new Error(`DESIGN.md's matrix does not classify ${coordinate}: add it to EXPLICIT in this test`);
}

interface Step {
  coordinate: string;
  field: string;
  args: string;
}

const demo = generateDemoData();
const REAL_ARGS: Record<string, Record<string, unknown>> = {
  'Query.product': { id: demo.products[0]!.id },
  'Query.productBySku': { sku: demo.products[0]!.sku },
  'Query.order': { id: demo.orders.at(-1)!.id },
  'Query.customer': { id: demo.orders.at(-1)!.customerId },
  'Query.customerByPhone': { phone: demo.customers[0]!.phone },
  'Query.user': { id: demo.users[0]!.id },
  'Query.orderStats': { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' },
  'Mutation.login': { email: 'nobody@stockgraph.local', password: 'not the password' },
};

function literal(type: GraphQLInputType, name: string): string {
  if (isNonNullType(type)) return literal(type.ofType, name);
  if (isListType(type)) return `[${literal(type.ofType, name)}]`;
  if (isEnumType(type)) return type.getValues().at(-1)!.name;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type));
    return `{ ${fields.map((f) => `${f.name}: ${literal(f.type, f.name)}`).join(', ')} }`;
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'ID':
        return '"0190b3c4-0000-7000-8000-000000000001"';
      case 'Int':
        return '1';
      case 'Boolean':
        return 'false';
      case 'DateTime':
        return '"2026-01-01T00:00:00Z"';
      case 'Decimal':
        return '"1.00"';
      default:
        return name === 'email'
          ? `"matrix-${Math.random().toString(36).slice(2)}@example.com"`
          : '"matrix probe value"';
    }
  }
  throw new Error(`no literal for ${String(type)}`);
}

function argumentsOf(coordinate: string, args: readonly GraphQLArgument[]): string {
  const real = REAL_ARGS[coordinate] ?? {};
  const parts = args
    .filter((a) => isNonNullType(a.type) || a.name in real)
    .map((a) => `${a.name}: ${a.name in real ? JSON.stringify(real[a.name]) : literal(a.type, a.name)}`);
  return parts.length ? `(${parts.join(', ')})` : '';
}

/** The shortest way from a root field to every object type, preferring queries. */
function pathsTo(schema: GraphQLSchema): Map<string, { root: 'query' | 'mutation'; steps: Step[] }> {
  const paths = new Map<string, { root: 'query' | 'mutation'; steps: Step[] }>();
  const queue: [GraphQLObjectType, 'query' | 'mutation', Step[]][] = [];
  for (const [root, type] of [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
  ] as const) {
    if (!type) continue;
    paths.set(type.name, { root, steps: [] });
    queue.push([type, root, []]);
  }
  while (queue.length) {
    const [type, root, steps] = queue.shift()!;
    for (const field of Object.values(type.getFields())) {
      const target = getNamedType(field.type);
      if (!isObjectType(target) || paths.has(target.name)) continue;
      const coordinate = `${type.name}.${field.name}`;
      const next = [...steps, { coordinate, field: field.name, args: argumentsOf(coordinate, field.args) }];
      paths.set(target.name, { root, steps: next });
      queue.push([target, root, next]);
    }
  }
  return paths;
}

function operation(root: 'query' | 'mutation', steps: Step[], leaf: Step, leafIsObject: boolean): string {
  const all = [...steps, leaf];
  let body = leafIsObject ? '{ __typename }' : '';
  for (let i = all.length - 1; i >= 0; i--) body = `{ ${all[i]!.field}${all[i]!.args} ${body} }`;
  return `${root} ${body}`;
}

/** A denial by the gateway's check (it lists the denied paths); the subgraphs' own shields are tested separately. */
type Errors = GraphQLResponse['errors'];
const DENIAL_CODES = ['UNAUTHENTICATED', 'FORBIDDEN'];
const isDenial = (errors: Errors) =>
  (errors ?? []).some((e) => DENIAL_CODES.includes(e.extensions?.code ?? '') && e.extensions?.denied);
/** Any denial, the gateway's or a subgraph shield's. */
const isAnyDenial = (errors: Errors) =>
  (errors ?? []).some(
    (e) => DENIAL_CODES.includes(e.extensions?.code ?? '') && (e.extensions?.denied || e.extensions?.field),
  );

let stack: Stack;
let schema: GraphQLSchema;
const headers = {} as Record<Who, Record<string, string>>;

beforeAll(async () => {
  stack = await startStack({ env: { LOGIN_MAX_FAILURES: '100' } });
  for (const who of WHO) headers[who] = who === 'ANONYMOUS' ? {} : await stack.as(who);
  const introspection = await graphql<IntrospectionQuery>(
    stack.gateway.url,
    getIntrospectionQuery(),
    {},
    headers.ADMIN,
  );
  schema = buildClientSchema(introspection.data!);
});

afterAll(async () => {
  await stack?.stop();
});

describe('authorization matrix, generated from the composed supergraph', () => {
  it('allows every field to exactly the roles DESIGN.md allows, and denies it to everyone else', async () => {
    const paths = pathsTo(schema);
    const cases: { coordinate: string; who: Who; query: string; expected: boolean }[] = [];
    for (const [typeName, { root, steps }] of paths) {
      const type = schema.getType(typeName) as GraphQLObjectType;
      for (const field of Object.values(type.getFields())) {
        const coordinate = `${typeName}.${field.name}`;
        const leaf = { coordinate, field: field.name, args: argumentsOf(coordinate, field.args) };
        const needed = Math.max(...[...steps, leaf].map((s) => least(s.coordinate)));
        const query = operation(root, steps, leaf, isObjectType(getNamedType(field.type)));
        for (const who of WHO) cases.push({ coordinate, who, query, expected: WHO.indexOf(who) >= needed });
      }
    }
    const mismatches: string[] = [];
    for (const c of cases) {
      const result = await graphql(stack.gateway.url, c.query, {}, headers[c.who]);
      // Allowed means no denial anywhere; denied means the gateway refused it before any subgraph.
      const allowed = c.expected ? !isAnyDenial(result.errors) : !isDenial(result.errors);
      if (allowed !== c.expected) {
        mismatches.push(
          `${c.coordinate} as ${c.who}: expected ${c.expected ? 'allowed' : 'denied'}, got ${JSON.stringify(result.errors ?? 'allowed')}\n    ${c.query}`,
        );
      }
    }
    const fields = new Set(cases.map((c) => c.coordinate)).size;
    console.info(`authorization matrix: ${fields} fields × ${WHO.length} identities = ${cases.length} requests`);
    expect(mismatches).toEqual([]);
    expect(fields).toBeGreaterThan(100);
  });

  it('answers a denied operation before planning: no subgraph receives a request', async () => {
    const total = async () => {
      const texts = await Promise.all(
        Object.values(stack.subgraphs).map(async (s) => (await fetch(new URL('/metrics', s.url))).text()),
      );
      return texts
        .flatMap((t) => t.split('\n'))
        .filter((l) => l.startsWith('stockgraph_graphql_requests_total{'))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    };
    const before = await total();
    const denied = [
      [headers.ANONYMOUS, '{ products(first: 1) { edges { node { sku } } } }'],
      [headers.VIEWER, '{ products(first: 1) { edges { node { sku costPrice } } } }'],
      [headers.STAFF, '{ orderStats(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z") { revenue } }'],
      [headers.MANAGER, '{ users(first: 1) { totalCount } }'],
    ] as const;
    for (const [auth, query] of denied) {
      const result = await graphql(stack.gateway.url, query, {}, auth);
      expect(isDenial(result.errors), query).toBe(true);
      expect(result.data ?? null).toBeNull();
    }
    expect(await total()).toBe(before);
  });

  it('sees denied fields through fragments, aliases and variables', async () => {
    const viaFragment = await graphql(
      stack.gateway.url,
      `
        query {
          products(first: 1) {
            edges {
              node {
                ...Costs
              }
            }
          }
        }
        fragment Costs on Product {
          sku
          price: costPrice
        }
      `,
      {},
      headers.VIEWER,
    );
    expect(viaFragment.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      denied: [{ path: 'products.edges.node.price', field: 'Product.costPrice' }],
    });
    const inline = await graphql(
      stack.gateway.url,
      `
        {
          customers(first: 1) {
            edges {
              node {
                ... on Customer {
                  secret: phone
                }
              }
            }
          }
        }
      `,
      {},
      headers.VIEWER,
    );
    expect(inline.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const query = `query ($withPhone: Boolean!) { customers(first: 1) { edges { node { name phone @include(if: $withPhone) } } } }`;
    expect(
      (await graphql(stack.gateway.url, query, { withPhone: true }, headers.VIEWER)).errors?.[0]?.extensions?.code,
    ).toBe('FORBIDDEN');
    const defaulted = `query ($withPhone: Boolean = true) { customers(first: 1) { edges { node { name phone @include(if: $withPhone) } } } }`;
    expect((await graphql(stack.gateway.url, defaulted, {}, headers.VIEWER)).errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      denied: [{ field: 'Customer.phone' }],
    });
    const without = await graphql(stack.gateway.url, query, { withPhone: false }, headers.VIEWER);
    expect(without.errors).toBeUndefined();
    expect(without.data.customers.edges[0].node).not.toHaveProperty('phone');
  });

  it("hides other users' emails inside allowed data (checked by the users subgraph)", async () => {
    // Which orders the STAFF user made depends on the day the demo data is generated for, so the expected
    // errors are derived from each order's author rather than assumed for the newest one. A denied email
    // (String!) nulls its createdBy, so the author is read under an alias of its own.
    const ORDERS_BY = `{ me { id } orders(first: 50) { edges { node { author: createdBy { id name } createdBy { email } } } } }`;
    type Edge = { node: { author: { id: string; name: string } | null; createdBy: { email: string } | null } };
    const result = await graphql(stack.gateway.url, ORDERS_BY, {}, headers.STAFF);
    const self = result.data.me.id as string;
    const edges = result.data.orders.edges as Edge[];
    const others = edges.flatMap((e, i) => (e.node.author && e.node.author.id !== self ? [i] : []));
    const own = edges.flatMap((e, i) => (e.node.author?.id === self ? [i] : []));
    expect(others.length).toBeGreaterThan(0);
    const forbidden = (result.errors ?? []).filter((e) => e.extensions?.code === 'FORBIDDEN');
    expect(forbidden.map((e) => e.path).sort()).toEqual(
      others.map((i) => ['orders', 'edges', i, 'node', 'createdBy', 'email']).sort(),
    );
    for (const i of others) {
      expect(edges[i]!.node.author!.name).toEqual(expect.any(String));
      expect(edges[i]!.node.createdBy).toBeNull();
    }
    // Their own email is theirs to read.
    for (const i of own) expect(edges[i]!.node.createdBy!.email).toMatch(/@stockgraph\.local$/);

    const asAdmin = await graphql(stack.gateway.url, ORDERS_BY, {}, headers.ADMIN);
    expect(asAdmin.errors).toBeUndefined();
    for (const edge of asAdmin.data.orders.edges as Edge[])
      if (edge.node.author) expect(edge.node.createdBy!.email).toMatch(/@stockgraph\.local$/);
  });
});
