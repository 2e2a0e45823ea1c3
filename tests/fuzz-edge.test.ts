import fc from 'fast-check';
import { graphql, startStack, type Stack } from '@stockgraph/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  brokenOperation,
  type FuzzData,
  malformedHttp,
  postOperation,
  problemWith,
  send,
  sendRaw,
  supergraphApiSchema,
  validOperation,
} from './fuzz-support.js';

/**
 * Property-based fuzzing of the real gateway and subgraphs (issue 8, item 5), with a fixed seed so a
 * failure replays; `pnpm bench:fuzz` runs the same properties much longer. FUZZ_SEED and FUZZ_RUNS
 * override the seed and the number of runs per property.
 */
const seed = Number(process.env.FUZZ_SEED ?? 20261128);
const numRuns = Number(process.env.FUZZ_RUNS ?? 60);
const schema = supergraphApiSchema();

let stack: Stack;
let token: string;
const data: FuzzData = { ids: [] };

beforeAll(async () => {
  // Thousands of operations as one user: the per-user budget (a minute of the busiest screen) would
  // soon answer 429 instead of letting the fuzz reach the resolvers.
  stack = await startStack({ gatewayEnv: { RATE_LIMIT_POINTS: '1000000000' } });
  token = (await stack.login('admin@stockgraph.local')).accessToken;
  const seen = await graphql(
    stack.gateway.url,
    '{ products(first: 3) { edges { cursor node { id } } } customers(first: 3) { edges { node { id } } } orders(first: 3) { edges { node { id } } } }',
    {},
    { authorization: `Bearer ${token}` },
  );
  const text = JSON.stringify(seen.data);
  data.ids = [...text.matchAll(/"id":"([^"]+)"/g)].map((m) => m[1]!);
  // Starting the stack is most of this file's time; on a busy machine it takes minutes.
}, 300_000);

afterAll(async () => {
  await stack?.stop();
});

async function alive() {
  const health = await fetch(new URL('/health', stack.gateway.url), { signal: AbortSignal.timeout(5000) });
  return health.status === 200 && stack.gateway.child.exitCode === null;
}

const who = fc.constantFrom<'admin' | 'anonymous'>('admin', 'admin', 'admin', 'anonymous');

describe('fuzzing the edge', () => {
  it('valid operations with generated variables get data or coded client errors', async () => {
    await fc.assert(
      fc.asyncProperty(validOperation(schema, data), who, async (op, caller) => {
        const answer = await postOperation(stack.gateway.url, op, caller === 'admin' ? token : undefined);
        expect(problemWith(answer), `${op.query}\n${JSON.stringify(op.variables).slice(0, 500)}`).toBeUndefined();
      }),
      { seed, numRuns, endOnFailure: true },
    );
    expect(await alive()).toBe(true);
  }, 120_000);

  it('broken operations get a 4xx with a client code', async () => {
    await fc.assert(
      fc.asyncProperty(brokenOperation(schema, data), async (op) => {
        const answer = await postOperation(stack.gateway.url, op, token);
        expect(problemWith(answer), op.query.slice(0, 500)).toBeUndefined();
      }),
      { seed, numRuns, endOnFailure: true },
    );
    expect(await alive()).toBe(true);
  }, 120_000);

  it('malformed HTTP never gets a 5xx, a stack trace or a hang', async () => {
    await fc.assert(
      fc.asyncProperty(malformedHttp(token), async (request) => {
        const answer = await send(stack.gateway.url, request);
        expect(
          problemWith(answer),
          `${request.method} ${request.path} ${JSON.stringify(request.headers)} ${request.body.toString('latin1').slice(0, 200)}`,
        ).toBeUndefined();
      }),
      { seed, numRuns: numRuns * 2, endOnFailure: true },
    );
    const raw = await fc.sample(fc.uint8Array({ minLength: 1, maxLength: 200 }), { seed, numRuns: 10 });
    for (const bytes of raw) {
      const status = await sendRaw(stack.gateway.url, Buffer.from(bytes));
      if (status !== null) expect(status).toBeLessThan(500);
    }
    expect(await alive()).toBe(true);
  }, 120_000);
});
