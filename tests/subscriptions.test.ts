import { randomUUID } from 'node:crypto';
import { graphql, type ServiceProcess, type Stack } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demo, dropRedisKeys, placeOrder, productWithStock, startSagaStack } from './saga-support.js';
import { openSse, openWs, type WsResult } from './subscription-support.js';

const STOCK = `subscription Stock($ids: [ID!]!) {
  stockChanged(productIds: $ids) { streamId available product { id sku available } movement { reason delta } }
}`;

const ORDERS = `subscription Orders {
  ordersChanged {
    status previousStatus streamId
    order { id number customer { name } items { quantity product { sku name } } }
  }
}`;

const receive = (stack: Stack, productId: string, quantity: number, headers: Record<string, string>) =>
  graphql(
    stack.gateway.url,
    'mutation ($id: ID!, $q: Int!) { receiveStock(productId: $id, quantity: $q) { available } }',
    { id: productId, q: quantity },
    headers,
  );

let stack: Stack;
let prefix: string;
let second: ServiceProcess;
let manager: Record<string, string>;
let staff: Record<string, string>;
let viewer: Record<string, string>;
let product: string;

beforeAll(async () => {
  ({ stack, prefix } = await startSagaStack({ SESSION_CACHE_MS: '1000' }));
  // A second gateway replica: any replica serves any subscriber, since events come from Redis.
  second = await stack.startGateway();
  [manager, staff, viewer] = await Promise.all([stack.as('MANAGER'), stack.as('STAFF'), stack.as('VIEWER')]);
  product = await productWithStock(stack, 50);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  if (prefix) await dropRedisKeys(prefix);
});

describe('subscriptions over SSE', () => {
  it('delivers each stock change with its stream id as the SSE id and fields from the supergraph', async () => {
    const stream = await openSse(stack.gateway.url, STOCK, { ids: [product] }, viewer);
    expect(stream.status).toBe(200);
    try {
      expect((await receive(stack, product, 5, staff)).errors).toBeUndefined();
      const event = await stream.events.next(30_000, 'the receipt');
      expect(event.event).toBe('next');
      const payload = event.data;
      const change = payload.data.stockChanged;
      expect(change.movement).toEqual({ reason: 'RECEIPT', delta: 5 });
      expect(change.product.id).toBe(product);
      expect(change.product.available).toBe(change.available);
      expect(change.available).toBe(55);
      expect(event.id).toBe(change.streamId);
      expect(payload.extensions.streamId).toBe(change.streamId);
    } finally {
      stream.close();
    }
  });

  it('refuses bad subscriptions with coded errors, not a hanging stream', async () => {
    const cases: [Record<string, string>, string, Record<string, unknown>, number, string][] = [
      [{}, STOCK, { ids: [product] }, 401, 'UNAUTHENTICATED'],
      [viewer, 'subscription { lowStock { available } }', {}, 403, 'FORBIDDEN'],
      [
        viewer,
        'subscription ($ids: [ID!]!) { stockChanged(productIds: $ids) { product { costPrice } } }',
        { ids: [product] },
        403,
        'FORBIDDEN',
      ],
      [viewer, STOCK, { ids: [randomUUID()] }, 404, 'NOT_FOUND'],
      [viewer, STOCK, { ids: Array.from({ length: 101 }, () => randomUUID()) }, 400, 'BAD_USER_INPUT'],
      [viewer, STOCK, { ids: ['not-an-id'] }, 400, 'BAD_USER_INPUT'],
      [viewer, 'subscription { stockChanged(productIds: []) { nope } }', {}, 400, 'GRAPHQL_VALIDATION_FAILED'],
    ];
    for (const [headers, query, variables, status, code] of cases) {
      const stream = await openSse(stack.gateway.url, query, variables, headers);
      stream.close();
      expect({ status: stream.status, code: stream.body?.errors[0]?.extensions?.code }, query).toEqual({
        status,
        code,
      });
    }
  });
});

describe('subscriptions over WebSocket', () => {
  it('tells a subscriber on one gateway replica of an order placed through the other', async () => {
    const ws = openWs(second.url, { authorization: manager.authorization });
    try {
      const { results } = ws.subscribe(ORDERS);
      // The subscription is live once the gateway answered a query on the same connection.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const placed = await placeOrder(stack, staff, [{ productId: product, quantity: 2 }]);
      expect(placed.errors).toBeUndefined();
      const orderId = placed.data.placeOrder.id as string;
      const mine = (r: WsResult) => r.data?.ordersChanged?.order?.id === orderId;
      const pending = await results.find(mine, 30_000, 'PENDING');
      expect(pending.data.ordersChanged).toMatchObject({ status: 'PENDING', previousStatus: null });
      const order = pending.data.ordersChanged.order;
      expect(order.customer.name).toBe(demo.customers[0]!.name);
      expect(order.items[0].product.sku).toMatch(/^T-/);
      const confirmed = await results.find(mine, 30_000, 'CONFIRMED');
      expect(confirmed.data.ordersChanged).toMatchObject({ status: 'CONFIRMED', previousStatus: 'PENDING' });
      expect(confirmed.extensions?.streamId).toBe(confirmed.data.ordersChanged.streamId);
    } finally {
      await ws.close();
    }
  });
});
