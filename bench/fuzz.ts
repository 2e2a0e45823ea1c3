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
  DISGUISES,
  disguise,
  errorCodes,
  type Disguise,
} from '@stockgraph/testkit/fuzz';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '2000' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
  },
  strict: true,
});
const runs = Number(values.runs);
const seed = Number(values.seed);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  process.stderr.write('usage: pnpm bench:fuzz [--runs N>=1] [--seed N]\n');
  process.exit(2);
}

const schema = supergraphApiSchema();
// Fuzzing sends thousands of operations as a handful of users: a budget met would end the exploration.
const stack = await startStack({ gatewayEnv: { RATE_LIMIT_POINTS: '1000000000' } });
const problems = new Map<string, { count: number; example: string }>();
let requests = 0;

/** The root fields of an operation's text, to tell problems apart by where they happen. */
function rootFields(query: string): string {
  const body = query.slice(query.indexOf('{') + 1);
  const fields: string[] = [];
  let depth = 0;
  for (const match of body.matchAll(/[{}]|\(|\)|\b[_A-Za-z]\w*/g)) {
    const token = match[0];
    if (token === '{' || token === '(') depth += 1;
    else if (token === '}' || token === ')') depth -= 1;
    else if (depth === 0) fields.push(token);
  }
  return fields.join(',');
}

function record(answer: Answer | Error, input: string, where = '', mismatch?: string) {
  requests += 1;
  const problem = answer instanceof Error ? `no answer: ${answer.message}` : (mismatch ?? problemWith(answer));
  if (!problem) return;
  // One bucket per kind: the problem's text without the digits and quoted values that vary, and where.
  const kind = `${problem
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\d+/g, 'N')
    .slice(0, 100)} @ ${where}`;
  const seen = problems.get(kind) ?? {
    count: 0,
    example: `${problem.slice(0, 300)}\n    input: ${input.slice(0, 400)}`,
  };
  seen.count += 1;
  problems.set(kind, seen);
}

try {
  const token = (await stack.login('admin@stockgraph.local')).accessToken;
  const seen = await graphql(
    stack.gateway.url,
    '{ products(first: 5) { edges { node { id } } } customers(first: 5) { edges { node { id } } } }',
    {},
    {
      authorization: `Bearer ${token}`,
    },
  );
  const data: FuzzData = { ids: [...JSON.stringify(seen.data).matchAll(/"id":"([^"]+)"/g)].map((m) => m[1]!) };
  const started = Date.now();
  const check = async <T>(name: string, property: fc.IAsyncProperty<T>) => {
    await fc.assert(property, { seed, numRuns: runs });
    process.stdout.write(`${name}: ${runs} runs\n`);
  };
  await check(
    'valid operations',
    fc.asyncProperty(validOperation(schema, data), fc.boolean(), async (op, anonymous) => {
      const answer = await postOperation(stack.gateway.url, op, anonymous ? undefined : token).catch((e: Error) => e);
      record(answer, `${op.query} ${JSON.stringify(op.variables)}`, rootFields(op.query));
    }),
  );
  // Root fields behind fragments, aliases and @include/@skip(if: false) must get the plain operation's
  // answer (issue 28, findings 1, 3, 5); a subscription so disguised, or skipped, never gets further.
  const viewer = (await stack.login('viewer@stockgraph.local')).accessToken;
  await check(
    'disguised queries',
    fc.asyncProperty(
      validOperation(schema, data, ['query']),
      fc.constantFrom(...DISGUISES),
      fc.boolean(),
      async (op, how, asViewer) => {
        const who = asViewer ? viewer : token;
        const plain = await postOperation(stack.gateway.url, op, who).catch((e: Error) => e);
        const hidden = disguise(op, how);
        const answer = await postOperation(stack.gateway.url, hidden, who).catch((e: Error) => e);
        const differs =
          !(plain instanceof Error) &&
          !(answer instanceof Error) &&
          (plain.status !== answer.status || errorCodes(plain).join() !== errorCodes(answer).join())
            ? `disguised (${how}) answered ${answer.status} ${errorCodes(answer).join()}, plain ${plain.status} ${errorCodes(plain).join()}`
            : undefined;
        record(answer, hidden.query, `disguised ${how}`, differs);
      },
    ),
  );
  await check(
    'disguised subscriptions',
    fc.asyncProperty(
      validOperation(schema, data, ['subscription']),
      fc.constantFrom<Disguise>(...DISGUISES, 'skip-true'),
      async (op, how) => {
        const sse = { accept: 'text/event-stream' };
        const plain = await postOperation(stack.gateway.url, op, viewer, sse).catch((e: Error) => e);
        const hidden = disguise(op, how);
        const answer = await postOperation(stack.gateway.url, hidden, viewer, sse).catch((e: Error) => e);
        // Without an event bus a subscription that passes every check ends in 503; a refusal is a 4xx.
        const slipped =
          !(plain instanceof Error) && !(answer instanceof Error) && plain.status < 500 && answer.status >= 500
            ? `disguised (${how}) subscription got ${answer.status}, the plain one was refused with ${plain.status}`
            : undefined;
        if (slipped || answer instanceof Error) record(answer, hidden.query, `subscription ${how}`, slipped);
        else requests += 1;
      },
    ),
  );
  await check(
    'broken operations',
    fc.asyncProperty(brokenOperation(schema, data), async (op) => {
      record(await postOperation(stack.gateway.url, op, token).catch((e: Error) => e), op.query, 'broken');
    }),
  );
  await check(
    'malformed HTTP',
    fc.asyncProperty(malformedHttp(token), async (request) => {
      const answer = await send(stack.gateway.url, request).catch((e: Error) => e);
      record(answer, `${request.method} ${JSON.stringify(request.headers)} ${request.body.toString('latin1')}`, 'http');
    }),
  );
  const health = await fetch(new URL('/health', stack.gateway.url));
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(
    `\nseed ${seed}: ${requests} requests in ${seconds.toFixed(1)} s; gateway ${health.ok ? 'alive' : 'NOT alive'}\n`,
  );
  for (const [kind, { count, example }] of [...problems].sort((a, b) => b[1].count - a[1].count)) {
    process.stdout.write(`\n${count} × ${kind}\n  e.g. ${example}\n`);
  }
  // What the services logged as unexpected: tells whose bug an internal error is.
  const logged = new Map<string, number>();
  for (const [name, service] of [['gateway', stack.gateway] as const, ...Object.entries(stack.subgraphs)]) {
    for (const line of service.output) {
      if (!line.startsWith('{"level":50')) continue;
      const record = JSON.parse(line) as { msg?: string; err?: { message?: string } };
      const key = `${name}: ${record.msg} — ${(record.err?.message ?? '').replace(/\s+/g, ' ').slice(0, 160)}`;
      logged.set(key, (logged.get(key) ?? 0) + 1);
    }
  }
  if (logged.size) process.stdout.write('\nlogged at error level:\n');
  for (const [line, count] of logged) process.stdout.write(`  ${count} × ${line}\n`);
  process.exitCode = problems.size > 0 || !health.ok ? 1 : 0;
} finally {
  await stack.stop();
}
