/**
 * What the client-facing edge costs (issue 27). Compression, on the 50-order page: the page a phone
 * asks for, and the subgraph answers the gateway assembles it from. Bytes on the wire for identity, gzip and brotli (the
 * settings of the `compression` middleware: zlib's default level, brotli quality 4), the CPU each takes
 * to compress and to decompress, and the gateway's CPU per request with and without it, measured from
 * outside the process over interleaved rounds. Schema usage recording: the gateway's CPU per request
 * with USAGE_DATABASE_URL set against a second gateway without it, on the same subgraphs, interleaved.
 *
 *   ../shared/bin/quiet-run -- pnpm bench:edge [--requests 300] [--rounds 3]
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';
import { createTestDatabase, startStack } from '@stockgraph/testkit';
import { cpuMs } from './proc-stats.js';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '300' }, rounds: { type: 'string', default: '3' } },
});
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
if (!Number.isInteger(REQUESTS) || REQUESTS < 10 || !Number.isInteger(ROUNDS) || ROUNDS < 1) {
  process.stderr.write('usage: bench/edge-costs.ts [--requests N>=10] [--rounds N>=1]\n');
  process.exit(2);
}

const PAGE = `query OrdersPage {
  orders(first: 50) {
    totalCount
    edges { node { id number status total createdAt
      customer { id name email phone }
      items { quantity unitPrice product { id sku name unitPrice available } } } }
  }
}`;

const stack = await startStack({ gatewayEnv: { RATE_LIMIT_POINTS: '1000000000' } });
const usageDatabase = await createTestDatabase('usage_bench');
try {
  const recording = await stack.startGateway({
    RATE_LIMIT_POINTS: '1000000000',
    USAGE_DATABASE_URL: usageDatabase.url,
    USAGE_FLUSH_SECONDS: '5',
  });
  const manager = await stack.as('MANAGER');
  const body = JSON.stringify({ query: PAGE });

  /** One POST, raw bytes as they came over the wire. */
  const post = (url: string, payload: string, headers: Record<string, string>) =>
    new Promise<{ bytes: Buffer; encoding?: string }>((resolve, reject) => {
      const request = http.request(
        url,
        { method: 'POST', headers: { 'content-type': 'application/json', ...manager, ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ bytes: Buffer.concat(chunks), encoding: res.headers['content-encoding'] }));
        },
      );
      request.on('error', reject).end(payload);
    });

  const page = await post(stack.gateway.url, body, {});
  const parsed = JSON.parse(page.bytes.toString()) as {
    data: { orders: { edges: { node: { customer: { id: string }; items: { product: { id: string } }[] } }[] } };
  };
  const edges = parsed.data.orders.edges;
  // The subgraph answers the plan fetches, asked directly: orders' page, then the entities it names.
  const productIds = [...new Set(edges.flatMap((e) => e.node.items.map((i) => i.product.id)))];
  const customerIds = [...new Set(edges.map((e) => e.node.customer.id))];
  const entities = (type: string, ids: string[], fields: string) =>
    JSON.stringify({
      query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on ${type} { ${fields} } } }`,
      variables: { r: ids.map((id) => ({ __typename: type, id })) },
    });
  const subgraphAnswers = {
    orders: (
      await post(
        stack.subgraphs.orders.url,
        JSON.stringify({
          query:
            '{ orders(first: 50) { totalCount edges { node { id number status total createdAt customer { id } items { quantity unitPrice product { id } } } } } }',
        }),
        {},
      )
    ).bytes,
    inventory: (
      await post(stack.subgraphs.inventory.url, entities('Product', productIds, 'sku name unitPrice available'), {})
    ).bytes,
    customers: (await post(stack.subgraphs.customers.url, entities('Customer', customerIds, 'name email phone'), {}))
      .bytes,
  };

  const perOp = (work: () => void) => {
    const n = 200;
    work();
    const start = process.cpuUsage();
    for (let i = 0; i < n; i += 1) work();
    const used = process.cpuUsage(start);
    return (used.user + used.system) / n;
  };
  const brotliQ4 = { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } };
  const rows: string[] = [];
  const describe = (name: string, bytes: Buffer) => {
    const gz = gzipSync(bytes);
    const br = brotliCompressSync(bytes, brotliQ4);
    rows.push(
      `| ${name} | ${bytes.length} | ${gz.length} (${((100 * gz.length) / bytes.length).toFixed(0)}%) | ${br.length} (${((100 * br.length) / bytes.length).toFixed(0)}%) | ` +
        `${perOp(() => gzipSync(bytes)).toFixed(0)} / ${perOp(() => gunzipSync(gz)).toFixed(0)} | ` +
        `${perOp(() => brotliCompressSync(bytes, brotliQ4)).toFixed(0)} / ${perOp(() => brotliDecompressSync(br)).toFixed(0)} |`,
    );
  };
  describe('client page (gateway → phone)', page.bytes);
  for (const [name, bytes] of Object.entries(subgraphAnswers)) describe(`${name} subgraph → gateway`, bytes);

  // The gateway's own CPU per request, identity against each encoding, rounds interleaved.
  const pid = stack.gateway.child.pid!;
  const variants: Record<string, Record<string, string>> = {
    identity: {},
    gzip: { 'accept-encoding': 'gzip' },
    br: { 'accept-encoding': 'br' },
  };
  const cpu: Record<string, number[]> = { identity: [], gzip: [], br: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, headers] of Object.entries(variants)) {
      for (let i = 0; i < 20; i += 1) await post(stack.gateway.url, body, headers);
      const before = cpuMs(pid);
      for (let i = 0; i < REQUESTS; i += 1) await post(stack.gateway.url, body, headers);
      cpu[name]!.push((cpuMs(pid) - before) / REQUESTS);
    }
  }
  // Usage recording: the same operations through a gateway that records and one that does not.
  const small = JSON.stringify({ query: 'query Catalogue { products(first: 5) { edges { node { id sku name } } } }' });
  const client = { 'apollographql-client-name': 'bench-web', 'apollographql-client-version': '1.0.0' };
  const usageCpu: Record<string, number[]> = {
    'catalogue, off': [],
    'catalogue, on': [],
    'page, off': [],
    'page, on': [],
  };
  const gateways = { off: stack.gateway, on: recording };
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [payloadName, payload] of [
      ['catalogue', small],
      ['page', body],
    ] as const) {
      for (const [mode, gateway] of Object.entries(gateways)) {
        for (let i = 0; i < 20; i += 1) await post(gateway.url, payload, client);
        const before = cpuMs(gateway.child.pid!);
        for (let i = 0; i < REQUESTS; i += 1) await post(gateway.url, payload, client);
        usageCpu[`${payloadName}, ${mode}`]!.push((cpuMs(gateway.child.pid!) - before) / REQUESTS);
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `\n50-order page: ${edges.length} orders, ${productIds.length} products, ${customerIds.length} customers\n`,
  );
  console.log(
    '| body | bytes | gzip bytes | brotli q4 bytes | gzip µs compress / decompress | brotli µs compress / decompress |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
  console.log(`\ngateway CPU per request (median of ${ROUNDS} rounds of ${REQUESTS}, ms):`);
  for (const [name, values] of Object.entries(cpu))
    console.log(
      `  ${name.padEnd(8)} ${median(values).toFixed(2)}  (rounds: ${values.map((v) => v.toFixed(2)).join(', ')})`,
    );
  console.log(
    `\ngateway CPU per request with and without usage recording (median of ${ROUNDS} rounds of ${REQUESTS}, ms):`,
  );
  for (const [name, values] of Object.entries(usageCpu))
    console.log(
      `  ${name.padEnd(15)} ${median(values).toFixed(2)}  (rounds: ${values.map((v) => v.toFixed(2)).join(', ')})`,
    );
} finally {
  await stack.stop();
  await usageDatabase.drop();
}
