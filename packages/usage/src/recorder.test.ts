import type { BaseContext } from '@apollo/server';
import { createLogger } from '@stockgraph/logger';
import { createTestDatabase, type TestDatabase } from '@stockgraph/testkit';
import { buildSchema, execute, parse } from 'graphql';
import postgres from 'postgres';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OTHER_CLIENT } from './aggregator.js';
import type { UsageEnv } from './env.js';
import { createUsageRecorder, type UsageRecorder } from './recorder.js';
import { recordOperation, usageTestEnv } from './testing.js';

interface Context extends BaseContext {
  client: { name: string; version: string };
  /** A query the gateway runs itself, e.g. for a subscription's event. */
  derived?: boolean;
}

const schema = buildSchema(`
  enum OrderStatus { PENDING SHIPPED CANCELLED }
  input OrderFilter { status: OrderStatus, customerId: ID, tags: [String!] }
  type Order { id: ID!, status: OrderStatus!, total: Int @deprecated(reason: "use amount"), amount: Int }
  type Query {
    orders(first: Int = 20, status: OrderStatus, filter: OrderFilter): [Order!]!
    order(id: ID!): Order
  }
  type Subscription { orderChanged(id: ID!, statuses: [OrderStatus!]): Order }
`);
const rootValue = {
  orders: () => [{ id: '1', status: 'SHIPPED', total: 3, amount: 3 }],
  order: () => null,
};

const ORDERS = `query Orders($filter: OrderFilter) {
  orders(first: 5, filter: $filter) { id status ...Money }
}
fragment Money on Order { amount __typename }
query Other { order(id: "x") { total } }`;

const env = (overrides: Partial<UsageEnv> = {}): UsageEnv => usageTestEnv(database.url, overrides);

let database: TestDatabase;
let sql: postgres.Sql;
let stops: (() => Promise<void>)[] = [];

beforeEach(async () => {
  database = await createTestDatabase('usage_recorder');
  sql = postgres(database.url, { max: 1, onnotice: () => {} });
});

afterEach(async () => {
  for (const stop of stops) await stop();
  stops = [];
  await sql.end();
  await database.drop();
});

async function serve(
  settings: UsageEnv,
  extra: { random?: () => number; ignore?: (r: { contextValue: Context }) => boolean } = {},
) {
  const registry = new Registry();
  const recorder: UsageRecorder<Context> = createUsageRecorder<Context>({
    env: settings,
    logger: createLogger('usage-test', 'silent'),
    registry,
    clientOf: ({ contextValue }) => contextValue.client,
    ...extra,
  });
  stops.push(() => recorder.stop());
  /** One request: the plugin's hook as Apollo calls it, then the operation itself. */
  const run = async (
    client: [string, string],
    query: string,
    variables?: Record<string, unknown>,
    operationName?: string,
    derived?: boolean,
  ) => {
    const contextValue: Context = { client: { name: client[0], version: client[1] }, derived };
    const { document } = await recordOperation(recorder, { schema, contextValue, query, variables, operationName });
    const result = await execute({
      schema,
      document,
      rootValue,
      variableValues: variables,
      operationName,
      contextValue,
    });
    expect(result.errors).toBeUndefined();
    return result.data;
  };
  const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values;
  return { recorder, run, metric };
}

async function rows(): Promise<Record<string, number>> {
  const result = await sql<{ key: string; count: string }[]>`
    select client_name || ' ' || client_version || ' ' || coordinate as key, sum(count)::text as count
    from usage.coordinate_usage group by 1 order by 1`;
  return Object.fromEntries(result.map((r) => [r.key, Number(r.count)]));
}

describe('usage recorder', () => {
  it('counts coordinates per client version across requests, from the document and its variables, and adds flushes up', async () => {
    const { recorder, run } = await serve(env());
    const web: [string, string] = ['web', '1.4.0'];
    await run(web, ORDERS, { filter: { status: 'SHIPPED', tags: null } }, 'Orders');
    await run(web, ORDERS, { filter: { status: 'PENDING' } }, 'Orders');
    await run(web, ORDERS, {}, 'Orders');
    await run(['ios', '2.0'], '{ orders(status: CANCELLED) { id } }');
    await recorder.flush();

    const after = await rows();
    expect(after).toMatchObject({
      'web 1.4.0 Query.orders': 3,
      'web 1.4.0 Query.orders(first:)': 3,
      'web 1.4.0 Query.orders(filter:)': 3,
      'web 1.4.0 Order.id': 3,
      // Through the fragment the operation spreads.
      'web 1.4.0 Order.amount': 3,
      // Sent in variables: counted per request as sent, a field sent as null included.
      'web 1.4.0 OrderFilter.status': 2,
      'web 1.4.0 OrderFilter.tags': 1,
      'web 1.4.0 OrderStatus.SHIPPED': 1,
      'web 1.4.0 OrderStatus.PENDING': 1,
      'ios 2.0 Query.orders': 1,
      'ios 2.0 Query.orders(status:)': 1,
      'ios 2.0 OrderStatus.CANCELLED': 1,
    });
    // Only the operation that ran counts, and neither __typename nor an argument left out does.
    const keys = Object.keys(after);
    expect(keys.filter((k) => /Query\.order\b|Order\.total|__typename|OrderFilter\.customerId/.test(k))).toEqual([]);
    expect(keys.filter((k) => k.startsWith('ios 2.0 Query.orders(first:)'))).toEqual([]);

    await run(web, ORDERS, {}, 'Orders');
    await recorder.flush();
    expect((await rows())['web 1.4.0 Query.orders']).toBe(4);
    const [row] = await sql<{ hours: number; applied: number }[]>`
      select (select count(distinct hour)::int from usage.coordinate_usage) as hours,
             (select count(*)::int from usage.__drizzle_migrations) as applied`;
    expect(row).toEqual({ hours: 1, applied: 1 });
    const [seen] = await sql<{ lastSeen: Date }[]>`
      select max(last_seen) as "lastSeen" from usage.coordinate_usage where coordinate = 'Query.orders'`;
    expect(Date.now() - seen!.lastSeen.getTime()).toBeLessThan(60_000);
  });

  it('stores estimated counts when it samples, with the samples beside them', async () => {
    const draws = [0.1, 0.9, 0.2, 0.8];
    const { recorder, run, metric } = await serve(env({ USAGE_SAMPLE_RATE: 0.5 }), {
      random: () => draws.shift() ?? 0,
    });
    for (let i = 0; i < 4; i++) await run(['web', '1'], '{ orders { id } }');
    await recorder.flush();
    const [row] = await sql<{ count: string; samples: string }[]>`
      select count::text, samples::text from usage.coordinate_usage where coordinate = 'Query.orders'`;
    expect(row).toEqual({ count: '4', samples: '2' });
    expect((await metric('stockgraph_usage_operations_total'))[0]!.value).toBe(2);
  });

  it('bounds what it holds: operations past the key bound are dropped and counted, clients past the cap pooled', async () => {
    const { recorder, run, metric } = await serve(env({ USAGE_MAX_KEYS: 2, USAGE_MAX_CLIENTS_PER_HOUR: 1 }));
    await run(['web', '1'], '{ orders { id } }');
    // Order.status would be a third key: the whole operation waits out, none of it counted.
    await run(['web', '1'], '{ orders { status } }');
    await run(['web', '1'], '{ orders { id } }');
    await recorder.flush();
    // A second pair this hour, past the cap of one: pooled, still counted.
    await run(['android', '9'], '{ orders { id } }');
    await recorder.flush();
    expect(await rows()).toEqual({
      'web 1 Query.orders': 2,
      'web 1 Order.id': 2,
      [`${OTHER_CLIENT} ${OTHER_CLIENT} Query.orders`]: 1,
      [`${OTHER_CLIENT} ${OTHER_CLIENT} Order.id`]: 1,
    });
    expect(await metric('stockgraph_usage_dropped_total')).toEqual([
      expect.objectContaining({ labels: { reason: 'full' }, value: 1 }),
    ]);
  });

  it('keeps answering when its store is down, and counts what it drops', async () => {
    const { recorder, run, metric } = await serve(
      env({ USAGE_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' }),
    );
    const started = performance.now();
    for (let i = 0; i < 3; i++) expect(await run(['web', '1'], '{ orders { id } }')).toEqual({ orders: [{ id: '1' }] });
    // Nothing on the request path waits for the store (a connection attempt is made by the flush).
    expect(performance.now() - started).toBeLessThan(1000);
    await recorder.flush();
    await run(['web', '1'], '{ orders { id } }');
    await recorder.flush();
    expect(await metric('stockgraph_usage_dropped_total')).toEqual([
      expect.objectContaining({ labels: { reason: 'store' }, value: 4 }),
    ]);
    expect((await metric('stockgraph_usage_pending_keys'))[0]!.value).toBe(0);
  });

  it('counts operations served outside Apollo (subscriptions) and leaves out those it is told to ignore', async () => {
    const { recorder, run } = await serve(env(), { ignore: ({ contextValue }) => contextValue.derived === true });
    recorder.record({
      schema,
      document: parse('subscription ($s: [OrderStatus!]) { orderChanged(id: "1", statuses: $s) { status } }'),
      variables: { s: ['SHIPPED', 'CANCELLED'] },
      client: { name: 'web', version: '1' },
    });
    // The query a subscription's event runs through the gateway: not the client's own operation.
    await run(['web', '1'], '{ order(id: "1") { status } }', undefined, undefined, true);
    await recorder.flush();
    expect(await rows()).toEqual({
      'web 1 Subscription.orderChanged': 1,
      'web 1 Subscription.orderChanged(id:)': 1,
      'web 1 Subscription.orderChanged(statuses:)': 1,
      'web 1 Order.status': 1,
      'web 1 OrderStatus.SHIPPED': 1,
      'web 1 OrderStatus.CANCELLED': 1,
    });
  });

  it('deletes hours older than the retention at start', async () => {
    const first = await serve(env());
    await first.run(['web', '1'], '{ orders { id } }');
    await first.recorder.flush();
    await sql`
      insert into usage.coordinate_usage (hour, client_name, client_version, coordinate, count, samples, last_seen)
      values (date_trunc('hour', now()) - interval '31 days', 'web', '0.9', 'Query.orders', 5, 5, now() - interval '31 days'),
             (date_trunc('hour', now()) - interval '29 days', 'web', '0.9', 'Query.order', 5, 5, now() - interval '29 days')`;
    const second = await serve(env());
    await second.recorder.stop();
    expect(await rows()).toEqual({ 'web 0.9 Query.order': 5, 'web 1 Query.orders': 1, 'web 1 Order.id': 1 });
  });
});
