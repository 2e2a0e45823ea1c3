import { randomUUID } from 'node:crypto';
import { spanTree, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan, type Stack } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demo, dropRedisKeys, eventually, PLACE, productWithStock, startSagaStack } from '@stockgraph/testkit/saga';

/**
 * Every process exports its spans to an OTLP receiver in this test; one placeOrder must come back as
 * one trace across the gateway, orders, SQL, Redis Streams and both saga steps, and the log lines of
 * the request must name that trace.
 */
let receiver: OtlpReceiver;
let stack: Stack;
let prefix: string;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  ({ stack, prefix } = await startSagaStack({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  }));
});

afterAll(async () => {
  await stack?.stop();
  if (prefix) await dropRedisKeys(prefix);
  await receiver?.close();
});

/** Sends an operation through the gateway; answers the body and the X-Request-Id header. */
async function send(query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  const response = await fetch(stack.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as {
    data?: Record<string, { id: string; status: string }> | null;
    errors?: { extensions?: Record<string, unknown> }[];
  };
  return { body, requestId: response.headers.get('x-request-id') };
}

/** The trace whose gateway server span handled this request. */
async function traceOf(requestId: string, until: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  return eventually(
    async () => {
      const root = receiver.spans.find(
        (s) => s.service === 'gateway' && s.attributes['stockgraph.request_id'] === requestId,
      );
      if (!root) return false;
      const spans = receiver.trace(root.traceId);
      return until(spans) ? spans : false;
    },
    20_000,
    `the trace of request ${requestId}`,
  );
}

const logLines = (output: string[]) =>
  output.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('one trace per client operation', () => {
  it('follows placeOrder from the gateway through orders, SQL and Redis Streams to both saga steps', async () => {
    const productId = await productWithStock(stack, 5);
    const idempotencyKey = `trace-${randomUUID()}`;
    const staff = await stack.as('STAFF');
    const { body, requestId } = await send(
      PLACE,
      { input: { customerId: demo.customers[0]!.id, items: [{ productId, quantity: 1 }], idempotencyKey } },
      { ...staff, 'apollographql-client-name': 'stockgraph-web', 'apollographql-client-version': '2.3.1' },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.placeOrder?.status).toBe('CONFIRMED');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);

    const has = (spans: ReceivedSpan[], service: string, name: string | RegExp) =>
      spans.some((s) => s.service === service && (typeof name === 'string' ? s.name === name : name.test(s.name)));
    // Each process exports on its own schedule: wait until every step has arrived and no span lacks its parent.
    const rootsOf = (t: ReceivedSpan[]) => {
      const ids = new Set(t.map((s) => s.spanId));
      return t.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
    };
    const spans = await traceOf(
      requestId!,
      (t) =>
        ['Mutation.placeOrder', 'send orders', 'process inventory'].every((name) => has(t, 'orders', name)) &&
        has(t, 'inventory', 'process orders') &&
        rootsOf(t).length === 1,
    );
    // PRINT_TRACE=1 shows the trace as a span tree (docs/operators/operate.md's example comes from here).
    if (process.env.PRINT_TRACE) console.log(spanTree(spans));

    // The gateway's steps, the subgraph request it made, and orders' resolver and SQL beneath it.
    for (const name of ['graphql.parse', 'graphql.validate', 'gateway.authorize', 'gateway.plan', 'gateway.fetch'])
      expect(has(spans, 'gateway', name), name).toBe(true);
    expect(has(spans, 'orders', 'Mutation.placeOrder')).toBe(true);
    // Statements: PostgreSQL spans with their text (transactions and savepoints are spans without one).
    const sql = spans.filter((s) => s.attributes['db.system'] === 'postgresql' && s.attributes['db.query.text']);
    // Placing the order is one statement (issue 25), named after its first write, that writes the order too.
    const placing = sql.find((s) => s.service === 'orders' && s.name === 'INSERT orders.idempotency_keys');
    expect(String(placing?.attributes['db.query.text'])).toMatch(/insert into orders\.orders\b/);
    // Redis calls made while serving the request (the gateway's rate limit) are client spans in it.
    const redis = spans.filter((s) => s.attributes['db.system'] === 'redis');
    expect(
      redis.some((s) => s.service === 'gateway'),
      'a gateway Redis span',
    ).toBe(true);
    expect(redis.every((s) => typeof s.attributes['db.operation.name'] === 'string')).toBe(true);
    // The saga: orders' outbox published, inventory reserving, inventory's answer, orders confirming.
    expect(has(spans, 'orders', 'send orders')).toBe(true);
    expect(has(spans, 'inventory', 'process orders')).toBe(true);
    // Inventory's reservation, one statement that claims the reservation row and updates the products.
    const reserving = sql.find((s) => s.service === 'inventory' && s.name === 'INSERT inventory.reservations');
    expect(String(reserving?.attributes['db.query.text'])).toMatch(/update inventory\.products\b/);
    expect(has(spans, 'orders', 'process inventory')).toBe(true);
    // One trace with one root: every subgraph and saga span descends from the gateway's server span.
    expect(rootsOf(spans).map((s) => `${s.service} ${s.name}`)).toEqual(['gateway POST /graphql']);
    // Client awareness: the calling app, as Apollo's tools name it, on the gateway's server span.
    expect(rootsOf(spans)[0]!.attributes).toMatchObject({
      'apollo.client.name': 'stockgraph-web',
      'apollo.client.version': '2.3.1',
    });
    // Statement text only: the values the client sent never reach a span.
    expect(JSON.stringify(spans)).not.toContain(idempotencyKey);
    for (const statement of sql) expect(statement.attributes['db.query.text']).toMatch(/\$1|^(select|begin|commit)/i);

    // The request's log lines, in the gateway and in orders, carry its ids and its user.
    const traceId = spans[0]!.traceId;
    for (const process of [stack.gateway, stack.subgraphs.orders]) {
      const lines = logLines(process.output).filter((l) => l.requestId === requestId);
      expect(lines.length, 'log lines of the request').toBeGreaterThan(0);
      for (const line of lines) {
        expect(line).toMatchObject({ traceId, userId: expect.any(String) });
        expect(line.spanId).toMatch(/^[0-9a-f]{16}$/);
        expect(Object.keys(line).filter((k) => k === 'name')).toEqual([]);
      }
    }
    // The gateway's lines name the calling app too.
    for (const line of logLines(stack.gateway.output).filter((l) => l.requestId === requestId))
      expect(line).toMatchObject({ client: 'stockgraph-web', clientVersion: '2.3.1' });
  });

  it('records a denied operation at the gateway, with no subgraph span, and names the request in the error', async () => {
    const { body, requestId } = await send(
      PLACE,
      { input: { customerId: demo.customers[0]!.id, items: [], idempotencyKey: randomUUID() } },
      {},
    );
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', requestId });
    const spans = await traceOf(requestId!, (t) => t.some((s) => s.name === 'gateway.authorize'));
    const authorize = spans.find((s) => s.name === 'gateway.authorize')!;
    expect(authorize.status.code).toBe(2);
    expect(authorize.attributes['stockgraph.authorization.denied_fields']).toEqual(['Mutation.placeOrder']);
    expect(authorize.events.some((e) => e.name === 'exception')).toBe(true);
    expect(spans.every((s) => s.service === 'gateway')).toBe(true);
    expect(spans.some((s) => s.name === 'gateway.fetch' || s.name === 'POST')).toBe(false);
  });

  it('keeps the request id of a trusted proxy and answers it in X-Request-Id', async () => {
    const id = `proxy-${randomUUID()}`;
    const { requestId } = await send('{ __typename }', {}, { 'x-request-id': id });
    // The test runs on loopback, which TRUST_PROXY trusts by default.
    expect(requestId).toBe(id);
  });
});
