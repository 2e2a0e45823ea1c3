import { createLogger } from '@stockgraph/logger';
import { buildSchema, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { entityTags } from './entities.js';
import { tagsOfEvent, tagsOfMutation } from './invalidation.js';
import { DEFAULT_TYPE_POLICIES, parseTypePolicies, planOperation } from './policy.js';
import { ResponseStore, type CachedAnswer } from './store.js';

const schema = buildSchema(`
  type Query {
    product(id: ID!): Product
    products(first: Int, filter: ProductFilter): ProductConnection
    orders: [Order!]!
    customer(id: ID!): Customer
    orderStats: [OrderStatsBucket!]!
  }
  input ProductFilter { category: String lowStock: Boolean }
  type Mutation { updateProduct(id: ID!): Product! }
  type Product { id: ID! name: String! unitsSold: Int }
  type ProductConnection { edges: [ProductEdge!]! totalCount: Int! }
  type ProductEdge { node: Product! cursor: String! }
  type Order { id: ID! items: [OrderItem!]! }
  type OrderItem { product: Product quantity: Int! }
  type Customer { id: ID! name: String! orderCount: Int }
  type OrderStatsBucket { orderCount: Int! }
`);
const policies = parseTypePolicies(DEFAULT_TYPE_POLICIES);

function operationOf(source: string) {
  const document = parse(source);
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  )!;
  const fragments = Object.fromEntries(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d]] : [])),
  );
  return { document, operation, fragments };
}

const plan = (source: string) => {
  const { document, operation } = operationOf(source);
  return planOperation(schema, document, operation, policies);
};

describe('the cache policy', () => {
  it('parses Type=seconds[:role|user] and says which entry is wrong', () => {
    expect(parseTypePolicies('Product=30, Order=5:user')).toEqual(
      new Map([
        ['Product', { maxAgeSeconds: 30, scope: 'role' }],
        ['Order', { maxAgeSeconds: 5, scope: 'user' }],
      ]),
    );
    expect(() => parseTypePolicies('Product=30:everyone')).toThrow(/"Product=30:everyone"/);
    expect(() => parseTypePolicies('Product=0')).toThrow(/1\.\.86400/);
  });

  it('caches a catalogue query per role, for the shortest age of what it selects', () => {
    expect(plan('{ products { edges { node { id name } } totalCount } }')).toEqual({
      cacheable: true,
      maxAgeSeconds: 60,
      scope: 'role',
      // The list of edges stands for a list of products: any product change may change it.
      typeTags: ['Product'],
    });
  });

  it('keeps an answer per user as soon as one type it selects depends on who asks', () => {
    const orders = plan('{ orders { id items { product { id name } } } }');
    expect(orders).toMatchObject({ cacheable: true, scope: 'user' });
  });

  it('passes through what has no policy, mutations and introspection', () => {
    expect(plan('{ orderStats { orderCount } }')).toEqual({
      cacheable: false,
      reason: 'no cache policy for OrderStatsBucket',
    });
    expect(plan('mutation { updateProduct(id: "1") { id } }')).toMatchObject({ cacheable: false });
    expect(plan('{ __schema { queryType { name } } }')).toMatchObject({ cacheable: false });
  });

  it('tags only lists that may filter by stock with what a stock change drops', () => {
    const byStock = plan('{ products(filter: { lowStock: true }) { edges { node { id } } } }');
    expect(byStock.cacheable && [...byStock.typeTags].sort()).toEqual(['Product', 'Product:lowStock']);
    expect(plan('query ($f: ProductFilter) { products(filter: $f) { totalCount } }')).toMatchObject({
      typeTags: ['Product:lowStock'],
    });
    expect(plan('{ products(filter: { category: "Tools" }) { edges { node { id } } } }')).toMatchObject({
      typeTags: ['Product'],
    });
  });

  it('tags answers holding fields derived from orders with the order type', () => {
    const derived = plan('{ customer(id: "c") { id orderCount } product(id: "p") { unitsSold } }');
    expect(derived).toMatchObject({ cacheable: true, typeTags: ['Order'] });
  });
});

describe('entity tags', () => {
  it('name each entity an answer holds by its id, through aliases and fragments', () => {
    const { operation, fragments } = operationOf(`
      query { first: product(id: "1") { key: id ...P } orders { id items { product { name } } } }
      fragment P on Product { name }
    `);
    const tags = entityTags(schema, operation, fragments, {
      first: { key: 'p1', name: 'A' },
      orders: [{ id: 'o1', items: [{ product: { name: 'B' } }, { product: null }] }],
    });
    // The nested product has no id selected (Product:~): a change of any product drops the answer; the
    // null one is the type's membership (Product).
    expect([...tags].sort()).toEqual([
      'Order:*',
      'Order:o1',
      'OrderItem:*',
      'OrderItem:~',
      'Product',
      'Product:*',
      'Product:p1',
      'Product:~',
    ]);
  });
});

describe('an entity answered as null', () => {
  it('is tagged with its type, so creating one drops the answer', () => {
    const { operation, fragments } = operationOf('query { product(id: "new") { id name } }');
    expect([...entityTags(schema, operation, fragments, { product: null })]).toEqual(['Product']);
  });
});

describe('invalidation', () => {
  const event = (type: string, payload: unknown) => ({ envelope: { type, payload } });

  it('maps each subgraph event to what it changes', () => {
    // Each change names its entity and the answers that hold one of its type without the id.
    expect(tagsOfEvent(event('ProductUpdated', { productId: 'p' }))).toEqual(['Product:p', 'Product:~', 'Product']);
    expect(tagsOfEvent(event('OrderPlaced', { orderId: 'o' }))).toEqual(['Order']);
    // Far above its reorder level, a stock change cannot move a product into or out of a lowStock list.
    expect(tagsOfEvent(event('StockChanged', { productId: 'p', delta: -1, available: 50, reorderLevel: 5 }))).toEqual([
      'Product:p',
      'Product:~',
      'StockMovement',
    ]);
    expect(tagsOfEvent(event('StockChanged', { productId: 'p', delta: -1, available: 5, reorderLevel: 5 }))).toEqual([
      'Product:p',
      'Product:~',
      'StockMovement',
      'Product:lowStock',
    ]);
    expect(tagsOfEvent(event('StockReserved', { orderId: 'o' }))).toEqual([]);
  });

  it("drops what a mutation returned, its type's lists, and every answer of a type it returned without ids", () => {
    expect(tagsOfMutation(['Product:p', 'Product:*']).sort()).toEqual(['Product', 'Product:p', 'Product:~']);
    expect(tagsOfMutation(['Product:~', 'Product:*']).sort()).toEqual(['Product', 'Product:*']);
  });
});

describe('an answer holding an entity without its id', () => {
  it('is dropped by a change of any entity of its type', async () => {
    const { operation, fragments } = operationOf('query { product(id: "p") { name } }');
    const tags = [...entityTags(schema, operation, fragments, { product: { name: 'A' } })];
    const change = tagsOfEvent({
      envelope: { type: 'StockChanged', payload: { productId: 'p', delta: 1, available: 50, reorderLevel: 1 } },
    });
    expect(tags.some((tag) => change.includes(tag))).toBe(true);
  });
});

describe('the store, in one process', () => {
  function store() {
    let now = 1_000_000;
    const events = { unavailable: () => {}, invalidated: () => {} };
    const logger = createLogger('test', 'silent');
    const s = new ResponseStore({ keyPrefix: 't:', localEntries: 2, maxAgeMs: 60_000, logger, events, now: () => now });
    return { s, tick: (ms: number) => (now += ms), now: () => now };
  }
  const answer = (since: number, tags: string[]): CachedAnswer => ({
    data: { x: 1 },
    since,
    expiresAt: since + 10_000,
    tags,
  });

  it('answers until the entry expires or one of its tags is invalidated', async () => {
    const { s, tick, now } = store();
    expect(await s.set('k', answer(now(), ['Product:p']), 1000)).toBe(true);
    expect(await s.get('k')).toMatchObject({ layer: 'local' });
    await s.invalidate(['Product:q'], 'event');
    expect(await s.get('k')).toMatchObject({ layer: 'local' });
    tick(1);
    await s.invalidate(['Product:p'], 'event');
    expect(await s.get('k')).toBeUndefined();
    await s.set('k2', answer(now() + 1000, ['Product:p']), 1000);
    tick(11_000);
    expect(await s.get('k2')).toBeUndefined();
  });

  it('refuses an answer whose fetch began before a change of what it holds', async () => {
    const { s, tick, now } = store();
    const began = now();
    tick(500);
    await s.invalidate(['Product:p'], 'mutation');
    tick(500);
    expect(await s.set('k', answer(began, ['Product:p']), 1000)).toBe(false);
    expect(await s.get('k')).toBeUndefined();
  });

  it('with read replicas, keeps nothing fetched within the settle time after a change of what it holds', async () => {
    let now = 1_000_000;
    const logger = createLogger('test', 'silent');
    const events = { unavailable: () => {}, invalidated: () => {} };
    const s = new ResponseStore({
      keyPrefix: 't:',
      localEntries: 10,
      maxAgeMs: 60_000,
      settleMs: 2000,
      logger,
      events,
      now: () => now,
    });
    await s.invalidate(['Product:p'], 'event');
    now += 1500;
    expect(await s.set('k', answer(now, ['Product:p']), 1000)).toBe(false);
    now += 1000;
    expect(await s.set('k', answer(now, ['Product:p']), 1000)).toBe(true);
  });

  it('holds at most its bound, dropping the least recently used, and nothing too large', async () => {
    const { s, now } = store();
    await s.set('a', answer(now(), []), 1000);
    await s.set('b', answer(now(), []), 1000);
    await s.get('a');
    await s.set('c', answer(now(), []), 1000);
    expect(await s.get('b')).toBeUndefined();
    expect(await s.get('a')).toBeDefined();
    expect(await s.set('big', { ...answer(now(), []), data: { x: 'y'.repeat(2000) } }, 1000)).toBe(false);
  });
});
