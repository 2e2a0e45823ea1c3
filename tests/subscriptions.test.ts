import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { graphql, ROOT, type ServiceProcess, type Stack } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import {
  demo,
  dropRedisKeys,
  eventually,
  placeOrder,
  productWithStock,
  REDIS_URL,
  startSagaStack,
} from '@stockgraph/testkit/saga';
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

const ORDER = `subscription Order($id: ID!) {
  orderStatusChanged(orderId: $id) { status previousStatus order { id status } }
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
      // A root field skipped or included conditionally would stream what the viewer may not see.
      [viewer, 'subscription V { ordersChanged @skip(if: true) { status order { total } } }', {}, 400, 'BAD_REQUEST'],
      [
        viewer,
        'subscription { lowStock(threshold: 1000000) @include(if: false) { available } }',
        {},
        400,
        'BAD_REQUEST',
      ],
      [
        viewer,
        'subscription { ... on Subscription @skip(if: true) { ordersChanged { status } } }',
        {},
        400,
        'BAD_REQUEST',
      ],
      [
        viewer,
        'subscription { ...Root } fragment Root on Subscription { ordersChanged @include(if: false) { status } }',
        {},
        400,
        'BAD_REQUEST',
      ],
      [
        viewer,
        'subscription ($no: Boolean!) { ...Root } fragment Root on Subscription { ordersChanged @include(if: $no) { status } }',
        { no: false },
        400,
        'GRAPHQL_VALIDATION_FAILED',
      ],
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

describe('subscriptions over SSE, sent by GET', () => {
  it('refuses a mutation sent by GET, and it changes nothing', async () => {
    const available = async () =>
      (await graphql(stack.gateway.url, 'query ($id: ID!) { product(id: $id) { available } }', { id: product }, staff))
        .data.product.available as number;
    const before = await available();
    const url = new URL(stack.gateway.url);
    url.searchParams.set('query', 'mutation ($id: ID!) { receiveStock(productId: $id, quantity: 5) { available } }');
    url.searchParams.set('variables', JSON.stringify({ id: product }));
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...staff } });
    expect(response.status).toBe(405);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('METHOD_NOT_ALLOWED');
    expect(await available()).toBe(before);
  });
});

describe('subscriptions over WebSocket', () => {
  it('tells a subscriber on one gateway replica of an order placed through the other', async () => {
    const ws = openWs(second.url, { authorization: manager.authorization });
    try {
      // Stream ids are times: resuming from "now" makes the subscription see the order however long it
      // takes to start, without waiting for it.
      const { results } = ws.subscribe(ORDERS, {}, { lastEventId: `${Date.now()}-0` });
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

describe('authorization of live events', () => {
  it('follows one order for its author and staff, and refuses it to a viewer who did not place it', async () => {
    const placed = await placeOrder(stack, staff, [{ productId: product, quantity: 1 }]);
    const orderId = placed.data.placeOrder.id as string;
    const refused = await openSse(stack.gateway.url, ORDER, { id: orderId }, viewer);
    expect(refused.body?.errors[0]?.extensions?.code).toBe('FORBIDDEN');
    const unknown = await openSse(stack.gateway.url, ORDER, { id: '0190b3c4-0000-7000-8000-000000000001' }, staff);
    expect(unknown.body?.errors[0]?.extensions?.code).toBe('NOT_FOUND');

    const ws = openWs(stack.gateway.url, { authorization: staff.authorization });
    try {
      const { results } = ws.subscribe(ORDER, { id: orderId }, { lastEventId: `${Date.now()}-0` });
      const cancelled = await graphql(
        stack.gateway.url,
        'mutation ($id: ID!) { cancelOrder(id: $id) { status } }',
        { id: orderId },
        staff,
      );
      expect(cancelled.errors).toBeUndefined();
      const event = await results.find((r) => r.data?.orderStatusChanged?.status === 'CANCELLED');
      expect(event.data.orderStatusChanged).toEqual({
        status: 'CANCELLED',
        previousStatus: 'CONFIRMED',
        order: { id: orderId, status: 'CANCELLED' },
      });
    } finally {
      await ws.close();
    }
  });

  it("answers an operation's own refusal on that operation, and the socket and its subscriptions live on", async () => {
    const ws = openWs(stack.gateway.url, { authorization: viewer.authorization });
    try {
      const live = ws.subscribe(STOCK, { ids: [product] });
      const refused = [
        ws.subscribe('mutation { login(email: "staff@stockgraph.local", password: "wrong password") { expiresAt } }'),
        ws.subscribe('query ($id: ID!) { product(id: $id) { costPrice } }', { id: product }),
        ws.subscribe('query ($id: ID!) { product(id: $id) { sku } }'),
      ];
      for (const operation of refused) {
        const answer = await operation.results.next(30_000, 'the refusal');
        expect(answer.errors?.[0]?.extensions?.code).toMatch(/UNAUTHENTICATED|FORBIDDEN|BAD_USER_INPUT/);
      }
      // Still open: a query answers, and the subscription from before gets the next change.
      const read = ws.subscribe('{ products(first: 1) { totalCount } }');
      expect((await read.results.next(30_000, 'the read')).data?.products.totalCount).toBeGreaterThan(0);
      expect((await receive(stack, product, 2, staff)).errors).toBeUndefined();
      expect((await live.results.next(30_000, 'the change')).data?.stockChanged.movement).toEqual({
        reason: 'RECEIPT',
        delta: 2,
      });
      expect(ws.closed.ended || (await ws.closed.next(100).catch(() => null)) === null).toBe(true);
    } finally {
      await ws.close();
    }
  });

  it('closes a WebSocket without a token, with the reason', async () => {
    const ws = openWs(stack.gateway.url, {});
    const closed = await ws.closed.next(30_000, 'the close');
    expect(closed.code).toBe(4401);
    expect(closed.reason).toMatch(/^UNAUTHENTICATED/);
    await ws.close();
  });

  it('closes a WebSocket whose token is not a live session at once, and holds no more than WEBSOCKETS_PER_USER per user (issue 28, finding 11)', async () => {
    for (const authorization of ['Bearer not-a-token', 'anything at all']) {
      const ws = openWs(stack.gateway.url, { authorization });
      const closed = await ws.closed.next(30_000, 'the close');
      expect(closed.code).toBe(4401);
      expect(closed.reason).toMatch(/^UNAUTHENTICATED/);
      await ws.close();
    }
    const capped = await stack.startGateway({ WEBSOCKETS_PER_USER: '2' });
    const sockets = [0, 1].map(() => openWs(capped.url, { authorization: viewer.authorization }));
    try {
      // Both acknowledged: each answers a query.
      for (const ws of sockets) {
        const read = ws.subscribe('{ products(first: 1) { totalCount } }');
        expect((await read.results.next(30_000, 'the read')).data?.products.totalCount).toBeGreaterThan(0);
      }
      const third = openWs(capped.url, { authorization: viewer.authorization });
      const closed = await third.closed.next(30_000, 'the close');
      expect(closed.code).toBe(4429);
      expect(closed.reason).toMatch(/^TOO_MANY_CONNECTIONS/);
      await third.close();
      // Another user is not counted against this one, and a closed socket frees its place.
      const other = openWs(capped.url, { authorization: staff.authorization });
      const read = other.subscribe('{ products(first: 1) { totalCount } }');
      expect((await read.results.next(30_000, 'the read')).data?.products.totalCount).toBeGreaterThan(0);
      await other.close();
      const gone = sockets.pop()!;
      await gone.close();
      await gone.closed.next(30_000, 'the close');
      // The gateway counts the socket gone when its own end sees it close, which may come a moment
      // after the client's: a new socket is accepted once it has.
      const answer = await eventually(
        async () => {
          const again = openWs(capped.url, { authorization: viewer.authorization });
          const result = await again
            .subscribe('{ products(first: 1) { totalCount } }')
            .results.next(30_000, 'the read');
          await again.close();
          return result.data ? result : undefined;
        },
        10_000,
        'a place for a new socket',
      );
      expect(answer.data?.products.totalCount).toBeGreaterThan(0);
    } finally {
      for (const ws of sockets) await ws.close();
      await capped.stop();
    }
  });

  it('keeps delivering to a subscriber when another who shares its events signs out (issue 28, finding 4)', async () => {
    // A gateway that rechecks sessions every 30 s: the signed-out subscriber's stream stays open while
    // the subgraphs already refuse its token, the window in which its events were resolved for both.
    const gateway = await stack.startGateway({ SESSION_CACHE_MS: '60000' });
    // Two sessions of one viewer share each event's resolution (same selection, same role); the first to
    // subscribe, whose token the shared query is asked with, signs out.
    const leaving = await stack.login('viewer@stockgraph.local');
    const staying = await stack.login('viewer@stockgraph.local');
    const leavingAuth = `Bearer ${leaving.accessToken}`;
    const first = await openSse(gateway.url, STOCK, { ids: [product] }, { authorization: leavingAuth });
    const second = await openSse(
      gateway.url,
      STOCK,
      { ids: [product] },
      {
        authorization: `Bearer ${staying.accessToken}`,
      },
    );
    try {
      await receive(stack, product, 1, staff);
      expect((await second.events.next()).data.data.stockChanged.movement.delta).toBe(1);
      const out = await graphql(
        stack.gateway.url,
        'mutation ($t: String!) { logout(refreshToken: $t) }',
        { t: leaving.refreshToken },
        { authorization: leavingAuth },
      );
      expect(out.data?.logout).toBe(true);
      // Until inventory itself refuses the ended session's token.
      await eventually(
        async () =>
          (
            await graphql(
              stack.subgraphs.inventory.url,
              '{ products(first: 1) { totalCount } }',
              {},
              {
                authorization: leavingAuth,
              },
            )
          ).errors?.[0]?.extensions?.code === 'UNAUTHENTICATED',
        30_000,
        'inventory refusing the ended session',
      );
      for (const delta of [2, 3, 4, 5]) await receive(stack, product, delta, staff);
      const deltas = [];
      for (let i = 0; i < 4; i++)
        deltas.push((await second.events.next(20_000, 'the next event')).data.data.stockChanged.movement.delta);
      expect(deltas).toEqual([2, 3, 4, 5]);
    } finally {
      first.close();
      second.close();
      await gateway.stop();
    }
  });

  it('ends the subscriptions of a session that signs out, over both transports', async () => {
    const session = await stack.login('viewer@stockgraph.local');
    const authorization = `Bearer ${session.accessToken}`;
    const sse = await openSse(stack.gateway.url, STOCK, { ids: [product] }, { authorization });
    const ws = openWs(stack.gateway.url, { authorization });
    try {
      const { results } = ws.subscribe(STOCK, { ids: [product] }, { lastEventId: `${Date.now()}-0` });
      await receive(stack, product, 1, staff);
      expect((await results.next()).data.stockChanged.movement.reason).toBe('RECEIPT');
      const out = await graphql(
        stack.gateway.url,
        'mutation ($t: String!) { logout(refreshToken: $t) }',
        {
          t: session.refreshToken,
        },
        { authorization },
      );
      expect(out.data?.logout).toBe(true);
      const last = await results.find((r) => r.errors !== undefined, 30_000, 'the end of the subscription');
      expect(last.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect((await ws.closed.next(30_000, 'the close')).code).toBe(4401);
      const sseLast = await sse.events.find((e) => e.data?.errors !== undefined, 30_000, 'the SSE end');
      expect(sseLast.data.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect((await sse.events.next(30_000, 'complete')).event).toBe('complete');
    } finally {
      sse.close();
      await ws.close();
    }
  });
});

describe('resuming', () => {
  it('delivers what an SSE client missed after its Last-Event-ID, then continues live', async () => {
    const first = await openSse(stack.gateway.url, STOCK, { ids: [product] }, viewer);
    await receive(stack, product, 1, staff);
    const seen = await first.events.next();
    first.close();
    await receive(stack, product, 2, staff);
    await receive(stack, product, 3, staff);
    const again = await openSse(stack.gateway.url, STOCK, { ids: [product] }, { ...viewer, 'last-event-id': seen.id! });
    try {
      const missed = [await again.events.next(), await again.events.next()];
      expect(missed.map((e) => e.data.data.stockChanged.movement.delta)).toEqual([2, 3]);
      await receive(stack, product, 4, staff);
      expect((await again.events.next()).data.data.stockChanged.movement.delta).toBe(4);
    } finally {
      again.close();
    }
  });

  it('resumes a WebSocket subscription from the lastEventId connection parameter', async () => {
    const probe = await openSse(stack.gateway.url, STOCK, { ids: [product] }, viewer);
    await receive(stack, product, 5, staff);
    const seen = await probe.events.next();
    probe.close();
    await receive(stack, product, 6, staff);
    const ws = openWs(second.url, { authorization: viewer.authorization, lastEventId: seen.id });
    try {
      const { results } = ws.subscribe(STOCK, { ids: [product] });
      expect((await results.next()).data.stockChanged.movement.delta).toBe(6);
    } finally {
      await ws.close();
    }
  });

  it('refuses a resume id beyond what a stream id can be, over both transports', async () => {
    const beyond = '0-99999999999999999999';
    const sse = await openSse(stack.gateway.url, STOCK, { ids: [product] }, { ...viewer, 'last-event-id': beyond });
    sse.close();
    expect({ status: sse.status, code: sse.body?.errors[0]?.extensions?.code }).toEqual({
      status: 400,
      code: 'BAD_USER_INPUT',
    });
    const ws = openWs(stack.gateway.url, { authorization: viewer.authorization });
    try {
      const { results } = ws.subscribe(STOCK, { ids: [product] }, { lastEventId: beyond });
      expect((await results.next()).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    } finally {
      await ws.close();
    }
  });

  it('says RESUME_EXPIRED when the stream no longer holds what the client missed', async () => {
    const probe = await openSse(stack.gateway.url, STOCK, { ids: [product] }, viewer);
    await receive(stack, product, 1, staff);
    const seen = await probe.events.next();
    probe.close();
    await receive(stack, product, 1, staff);
    // Retention ran (the services trim acknowledged entries by age): here, everything up to now.
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      await redis.xTrim(`${prefix}inventory`, 'MAXLEN', 0);
    } finally {
      await redis.quit();
    }
    const sse = await openSse(stack.gateway.url, STOCK, { ids: [product] }, { ...viewer, 'last-event-id': seen.id! });
    expect({ status: sse.status, code: sse.body?.errors[0]?.extensions?.code }).toEqual({
      status: 409,
      code: 'RESUME_EXPIRED',
    });
    const ws = openWs(stack.gateway.url, { authorization: viewer.authorization });
    try {
      const { results } = ws.subscribe(STOCK, { ids: [product] }, { lastEventId: seen.id });
      expect((await results.next()).errors?.[0]?.extensions?.code).toBe('RESUME_EXPIRED');
    } finally {
      await ws.close();
    }
  });
});

describe('subscription limits', () => {
  it('lets one user hold no more subscriptions than the limit, however many open at once', async () => {
    // A user of its own, so the other tests' subscriptions do not count.
    const user = await stack.as('ADMIN');
    const streams = await Promise.all(
      Array.from({ length: 150 }, () => openSse(stack.gateway.url, STOCK, { ids: [product] }, user)),
    );
    try {
      const statuses = streams.map((s) => s.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(100);
      expect(statuses.filter((s) => s === 429)).toHaveLength(50);
    } finally {
      for (const stream of streams) stream.close();
    }
  }, 120_000);

  it('lets one WebSocket hold no more subscriptions than the limit, however many are sent at once', async () => {
    const token = viewer.authorization!;
    const ws = openWs(stack.gateway.url, { authorization: token });
    try {
      const subscriptions = Array.from({ length: 60 }, () => ws.subscribe(STOCK, { ids: [product] }));
      // Those over the limit are refused at once; the others stay open, waiting for events.
      const firsts = await Promise.all(
        subscriptions.map((sub) => sub.results.next(5_000, 'an answer').catch(() => null)),
      );
      const refused = firsts.filter((first): first is WsResult => Boolean(first?.errors));
      expect(refused).toHaveLength(35);
      for (const r of refused) expect(r.errors![0]!.extensions?.code).toBe('TOO_MANY_SUBSCRIPTIONS');
      for (const s of subscriptions) s.stop();
    } finally {
      await ws.close();
    }
  }, 120_000);
});

describe('subscriptions pass the edge like any operation (issue 28, finding 3)', () => {
  /** The web app's own subscription, as the persisted-operation manifest holds it. */
  const manifest = JSON.parse(readFileSync(join(ROOT, 'schema/generated/persisted-documents.json'), 'utf8')) as Record<
    string,
    string
  >;
  const LIVE_STOCK = Object.values(manifest).find((text) => text.includes('subscription LiveStock'))!;
  let trusted: ServiceProcess;

  beforeAll(async () => {
    trusted = await stack.startGateway({ TRUSTED_DOCUMENTS_ONLY: 'true' });
  }, 120_000);

  it('runs only manifest subscriptions on a trusted-documents gateway, and suggests no field names', async () => {
    const adHoc = await openSse(trusted.url, STOCK, { ids: [product] }, viewer);
    adHoc.close();
    expect(adHoc.status).toBe(400);
    expect(adHoc.body?.errors[0]?.extensions?.code).toBe('OPERATION_NOT_TRUSTED');
    const misspelled = await openSse(
      trusted.url,
      'subscription { stockChangd(productIds: ["x"]) { streamId } }',
      {},
      viewer,
    );
    misspelled.close();
    expect(misspelled.body?.errors[0]?.extensions?.code).toBe('OPERATION_NOT_TRUSTED');
    expect(JSON.stringify(misspelled.body)).not.toMatch(/Did you mean|stockChanged/);

    const ws = openWs(trusted.url, { authorization: viewer.authorization });
    try {
      const refused = ws.subscribe(STOCK, { ids: [product] });
      expect((await refused.results.next(30_000, 'the refusal')).errors?.[0]?.extensions?.code).toBe(
        'OPERATION_NOT_TRUSTED',
      );
    } finally {
      await ws.close();
    }

    const shipped = await openSse(trusted.url, LIVE_STOCK, { productIds: [product] }, viewer);
    try {
      expect(shipped.status).toBe(200);
      expect((await receive(stack, product, 1, staff)).errors).toBeUndefined();
      const event = await shipped.events.next(30_000, 'the receipt');
      expect(event.data.data.stockChanged.movement).toEqual({ reason: 'RECEIPT', delta: 1 });
    } finally {
      shipped.close();
    }
  });

  it('applies the depth, alias and cost limits to a subscription', async () => {
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: streamId`).join(' ');
    const wide = await openSse(
      stack.gateway.url,
      `subscription ($ids: [ID!]!) { stockChanged(productIds: $ids) { ${aliases} } }`,
      { ids: [product] },
      viewer,
    );
    wide.close();
    expect(wide.status).toBe(400);
    expect(wide.body?.errors[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('spends the cost budget: cost × ids to subscribe, and each replayed event', async () => {
    // The stock subscription costs 22.25 points an id and its event query 6.5: 150 points a minute let
    // a one-id subscription in, refuse one of 100 ids, and cut a replay of more than a dozen events.
    const limited = await stack.startGateway({ RATE_LIMIT_POINTS: '150', REDIS_KEY_PREFIX: `${prefix}limited:` });
    const user = await stack.as('MANAGER');
    const hundred = await openSse(limited.url, STOCK, { ids: Array.from({ length: 100 }, () => product) }, user);
    hundred.close();
    expect(hundred.status).toBe(429);
    expect(hundred.body?.errors[0]?.extensions?.code).toBe('RATE_LIMITED');

    const fresh = await productWithStock(stack, 100);
    // Where the replay starts: the first of 20 changes, as a client that saw it and then lost its connection.
    const watching = await openSse(stack.gateway.url, STOCK, { ids: [fresh] }, viewer);
    let from: string;
    try {
      for (let i = 0; i < 20; i += 1) expect((await receive(stack, fresh, 1, staff)).errors).toBeUndefined();
      from = (await watching.events.next(30_000, 'the first change')).id!;
    } finally {
      watching.close();
    }
    // Another user: the refusal above spent the manager's whole budget, as any refused request does.
    const admin = await stack.as('ADMIN');
    const replay = await openSse(limited.url, STOCK, { ids: [fresh] }, { ...admin, 'last-event-id': from });
    try {
      expect(replay.status).toBe(200);
      const delivered: unknown[] = [];
      for (;;) {
        const event = await replay.events.next(30_000, 'the replay');
        if (event.data?.errors) {
          expect(event.data.errors[0].extensions.code).toBe('RATE_LIMITED');
          break;
        }
        delivered.push(event.data);
      }
      expect(delivered.length).toBeLessThan(19);
    } finally {
      replay.close();
    }
  });
});
