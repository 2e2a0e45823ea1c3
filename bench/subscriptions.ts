/**
 * Live subscriptions at one gateway, every service its own process on the machine's PostgreSQL and
 * Redis:
 *
 *   latency   N subscribers (SSE) of one product's stockChanged; each of `--changes` stock receipts is
 *             timed from the moment the mutation was sent to each subscriber's event, over all of them
 *             (p50/p99), so the figure includes the write, the outbox relay, Redis, the shared reader,
 *             the per-event query through the gateway and the fan-out;
 *   capacity  subscribers opened in steps until `--max` or the first refusal, with the gateway's RSS.
 *
 *   pnpm bench:subscriptions [--subscribers 1000] [--changes 20] [--max 5000] [--step 1000]
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { graphql } from '@stockgraph/testkit';
import { dropRedisKeys, productWithStock, startSagaStack } from '@stockgraph/testkit/saga';
import { rssMb } from './proc-stats.js';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000' },
    changes: { type: 'string', default: '20' },
    max: { type: 'string', default: '5000' },
    step: { type: 'string', default: '1000' },
  },
});
const SUBSCRIBERS = Number(values.subscribers);
const CHANGES = Number(values.changes);
const MAX = Number(values.max);
const STEP = Number(values.step);

const QUERY = `subscription ($ids: [ID!]!) {
  stockChanged(productIds: $ids) { streamId available movement { delta } product { sku available } }
}`;

interface Subscriber {
  request: http.ClientRequest;
  /** Arrival time of each event, by the movement's delta (each change in the run has its own delta). */
  arrivals: Map<number, number>;
}

/** Opens one SSE subscription with node:http (far lighter than fetch at thousands of connections). */
function subscribe(url: string, authorization: string, productId: string): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const arrivals = new Map<number, number>();
    const body = JSON.stringify({ query: QUERY, variables: { ids: [productId] } });
    const request = http.request(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization },
    });
    request.on('response', (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`subscription refused: ${response.statusCode}`));
        return;
      }
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: {'));
          if (!data) continue;
          const delta = (JSON.parse(data.slice(6)) as { data?: { stockChanged?: { movement: { delta: number } } } })
            .data?.stockChanged?.movement.delta;
          if (delta !== undefined) arrivals.set(delta, performance.now());
        }
      });
      resolve({ request, arrivals });
    });
    request.on('error', reject);
    request.end(body);
  });
}

async function openMany(url: string, authorization: string, productId: string, count: number) {
  const opened: Subscriber[] = [];
  // In batches: a burst of thousands of connects would measure the listen backlog, not the gateway.
  for (let at = 0; at < count; at += 100) {
    const batch = Math.min(100, count - at);
    opened.push(...(await Promise.all(Array.from({ length: batch }, () => subscribe(url, authorization, productId)))));
  }
  return opened;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

const { stack, prefix } = await startSagaStack(
  {},
  // The production default for SESSION_CACHE_MS (tests set 0): each subscription re-checks its session every 2.5 s.
  {
    gatewayEnv: {
      SUBSCRIPTIONS_PER_USER: '100000',
      SESSION_CACHE_MS: '5000',
      RATE_LIMIT_ENABLED: 'false',
    },
  },
);
try {
  const viewer = (await stack.as('VIEWER')).authorization!;
  const staff = await stack.as('STAFF');
  const product = await productWithStock(stack, 10);
  const gatewayPid = stack.gateway.child.pid!;
  const rssBefore = rssMb(gatewayPid);

  const subscribers = await openMany(stack.gateway.url, viewer, product, SUBSCRIBERS);
  const sent = new Map<number, number>();
  for (let change = 1; change <= CHANGES; change++) {
    sent.set(change, performance.now());
    const result = await graphql(
      stack.gateway.url,
      'mutation ($id: ID!, $q: Int!) { receiveStock(productId: $id, quantity: $q) { available } }',
      { id: product, q: change },
      staff,
    );
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    // Let each change reach everyone before the next: the figure is latency, not a queue.
    const deadline = performance.now() + 30_000;
    while (subscribers.some((s) => !s.arrivals.has(change)) && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const latencies: number[] = [];
  let missing = 0;
  for (const s of subscribers)
    for (const [change, at] of sent) {
      const arrived = s.arrivals.get(change);
      if (arrived === undefined) missing++;
      else latencies.push(arrived - at);
    }
  latencies.sort((a, b) => a - b);
  console.log(
    `latency, ${SUBSCRIBERS} subscribers × ${CHANGES} changes: p50 ${percentile(latencies, 0.5).toFixed(1)} ms, ` +
      `p99 ${percentile(latencies, 0.99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms, ${missing} missing; ` +
      `gateway RSS ${rssBefore.toFixed(0)} → ${rssMb(gatewayPid).toFixed(0)} MB; load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );

  let held = subscribers.length;
  while (held < MAX) {
    try {
      subscribers.push(...(await openMany(stack.gateway.url, viewer, product, Math.min(STEP, MAX - held))));
      held = subscribers.length;
      console.log(`capacity: ${held} subscribers open, gateway RSS ${rssMb(gatewayPid).toFixed(0)} MB`);
    } catch (error) {
      console.log(`capacity: stopped at ${held}: ${(error as Error).message}`);
      break;
    }
  }
  // Still live at that count: one more change reaches every subscriber?
  const last = CHANGES + 1;
  sent.set(last, performance.now());
  await graphql(
    stack.gateway.url,
    'mutation ($id: ID!, $q: Int!) { receiveStock(productId: $id, quantity: $q) { available } }',
    { id: product, q: last },
    staff,
  );
  const deadline = performance.now() + 60_000;
  while (subscribers.some((s) => !s.arrivals.has(last)) && performance.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  const reached = subscribers.filter((s) => s.arrivals.has(last)).map((s) => s.arrivals.get(last)! - sent.get(last)!);
  reached.sort((a, b) => a - b);
  console.log(
    `at ${held} subscribers one change reached ${reached.length}: p50 ${percentile(reached, 0.5).toFixed(0)} ms, ` +
      `p99 ${percentile(reached, 0.99).toFixed(0)} ms; load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  for (const s of subscribers) s.request.destroy();
} finally {
  await stack.stop();
  await dropRedisKeys(prefix);
}
