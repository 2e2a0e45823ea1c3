/**
 * The edge fuzzer of tests/fuzz-edge.test.ts, run long: generated operations (valid and broken) and
 * malformed HTTP against the gateway and subgraphs, each its own process on the machine's PostgreSQL.
 * Unlike the test it does not stop at the first problem: it counts every kind it sees and prints one
 * example of each, then exits 1 if there was any.
 *
 *   pnpm bench:fuzz [--runs 2000] [--seed N]
 */
import { parseArgs } from 'node:util';
import { graphql, startStack } from '@stockgraph/testkit';
import fc from 'fast-check';
import {
  type Answer,
  brokenOperation,
  type FuzzData,
  malformedHttp,
  postOperation,
  problemWith,
  send,
  supergraphApiSchema,
  validOperation,
} from '../tests/fuzz-support.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '2000' }, seed: { type: 'string', default: String(Date.now() % 2 ** 31) } },
  strict: true,
});
const runs = Number(values.runs);
const seed = Number(values.seed);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  process.stderr.write('usage: pnpm bench:fuzz [--runs N>=1] [--seed N]\n');
  process.exit(2);
}

const schema = supergraphApiSchema();
const stack = await startStack();
const problems = new Map<string, { count: number; example: string }>();
let requests = 0;

function record(answer: Answer | Error, input: string) {
  requests += 1;
  const problem = answer instanceof Error ? `no answer: ${answer.message}` : problemWith(answer);
  if (!problem) return;
  // One bucket per kind: the problem's text without the digits and quoted values that vary.
  const kind = problem.replace(/"[^"]*"/g, '"…"').replace(/\d+/g, 'N').slice(0, 120);
  const seen = problems.get(kind) ?? { count: 0, example: `${problem.slice(0, 300)}\n    input: ${input.slice(0, 400)}` };
  seen.count += 1;
  problems.set(kind, seen);
}

try {
  const token = (await stack.login('admin@stockgraph.local')).accessToken;
  const seen = await graphql(stack.gateway.url, '{ products(first: 5) { edges { node { id } } } customers(first: 5) { edges { node { id } } } }', {}, {
    authorization: `Bearer ${token}`,
  });
  const data: FuzzData = { ids: [...JSON.stringify(seen.data).matchAll(/"id":"([^"]+)"/g)].map((m) => m[1]!) };
  const started = Date.now();
  const check = async <T>(name: string, property: fc.IAsyncProperty<T>) => {
    await fc.assert(property, { seed, numRuns: runs });
    process.stdout.write(`${name}: ${runs} runs\n`);
  };
  await check('valid operations', fc.asyncProperty(validOperation(schema, data), fc.boolean(), async (op, anonymous) => {
    const answer = await postOperation(stack.gateway.url, op, anonymous ? undefined : token).catch((e: Error) => e);
    record(answer, `${op.query} ${JSON.stringify(op.variables)}`);
  }));
  await check('broken operations', fc.asyncProperty(brokenOperation(schema, data), async (op) => {
    record(await postOperation(stack.gateway.url, op, token).catch((e: Error) => e), op.query);
  }));
  await check('malformed HTTP', fc.asyncProperty(malformedHttp(token), async (request) => {
    const answer = await send(stack.gateway.url, request).catch((e: Error) => e);
    record(answer, `${request.method} ${JSON.stringify(request.headers)} ${request.body.toString('latin1')}`);
  }));
  const health = await fetch(new URL('/health', stack.gateway.url));
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`\nseed ${seed}: ${requests} requests in ${seconds.toFixed(1)} s; gateway ${health.ok ? 'alive' : 'NOT alive'}\n`);
  for (const [kind, { count, example }] of [...problems].sort((a, b) => b[1].count - a[1].count)) {
    process.stdout.write(`\n${count} × ${kind}\n  e.g. ${example}\n`);
  }
  process.exitCode = problems.size > 0 || !health.ok ? 1 : 0;
} finally {
  await stack.stop();
}
