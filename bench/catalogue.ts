/**
 * `pnpm bench:catalogue [--requests 300] [--rounds 3] [--ttl 60000]`: p50/p95 of `product(id)`,
 * `productBySku`, `products(first: 20) { totalCount }` and a 20-representation `_entities` call,
 * sent straight to the inventory subgraph with the catalogue cache on (CATALOGUE_CACHE_TTL_MS=--ttl)
 * and off (0). Both run in this process on one fresh PostgreSQL database with the demo data and the
 * shared Redis (REDIS_URL, default redis://127.0.0.1:6379) under a key prefix of their own; rounds
 * alternate on and off so drifting load hits both alike. Requests are sequential: this measures
 * latency, not throughput. Report `uptime` with the figures.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { parseInventoryEnv, startInventory } from '@stockgraph/inventory';
import { createTestDatabase, createTestKeys, graphql } from '@stockgraph/testkit';
import postgres from 'postgres';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '3' },
    ttl: { type: 'string', default: '60000' },
  },
});
const requests = Number(values.requests);
const rounds = Number(values.rounds);
if (
  !Number.isInteger(requests) ||
  requests < 1 ||
  !Number.isInteger(rounds) ||
  rounds < 1 ||
  !/^\d+$/.test(values.ttl)
) {
  console.error('usage: pnpm bench:catalogue [--requests N>0] [--rounds N>0] [--ttl MS>0]');
  process.exit(2);
}
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keys = createTestKeys();
const database = await createTestDatabase('bench-catalogue');
const prefix = `bench-catalogue-${process.pid}:`;

function start(ttlMs: string) {
  return startInventory({
    env: parseInventoryEnv({
      DATABASE_URL: database.url,
      SEED_DEMO_DATA: 'true',
      LOG_LEVEL: 'silent',
      PORT: '0',
      NODE_ENV: 'development',
      JWT_PRIVATE_KEY: keys.pem,
      REDIS_URL: redisUrl,
      EVENTS_PREFIX: prefix,
      CATALOGUE_CACHE_TTL_MS: ttlMs,
    }),
    verifier: keys.verifier,
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

try {
  const on = await start(values.ttl);
  const off = await start('0');
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  const products = await sql<{ id: string; sku: string }[]>`select id, sku from inventory.products order by sku`;
  await sql.end();
  const headers = await keys.headers('MANAGER');
  const pick = (i: number) => products[(i * 7919) % products.length]!;
  const operations: Record<string, (i: number) => [string, Record<string, unknown>]> = {
    'product(id)': (i) => [
      'query ($id: ID!) { product(id: $id) { id sku name unitPrice available } }',
      { id: pick(i).id },
    ],
    productBySku: (i) => [
      'query ($s: String!) { productBySku(sku: $s) { id name unitPrice available } }',
      { s: pick(i).sku },
    ],
    'products(first: 20)': () => ['{ products(first: 20) { totalCount edges { node { id sku unitPrice } } } }', {}],
    '_entities x20': (i) => [
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id name unitPrice available } } }',
      { r: Array.from({ length: 20 }, (_, n) => ({ __typename: 'Product', id: pick(i + n).id })) },
    ],
  };
  const samples = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const [mode, service] of round % 2 === 0
      ? ([
          ['on', on],
          ['off', off],
        ] as const)
      : ([
          ['off', off],
          ['on', on],
        ] as const)) {
      for (const [name, make] of Object.entries(operations)) {
        const key = `${name}\t${mode}`;
        const list = samples.get(key) ?? [];
        samples.set(key, list);
        for (let i = 0; i < requests; i++) {
          const [query, variables] = make(i);
          const began = performance.now();
          const result = await graphql(service.url, query, variables, headers);
          const took = performance.now() - began;
          if (result.errors) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
          // The first pass over the keys fills the cache: measured, it would be a miss in both modes.
          if (round > 0 || i >= products.length) list.push(took);
        }
      }
    }
  }
  console.log(
    `catalogue cache: ${products.length} products, ${requests} requests x ${rounds} rounds, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log('operation\tcache\tp50 ms\tp95 ms\tn');
  for (const [key, list] of samples) {
    const sorted = [...list].sort((x, y) => x - y);
    console.log(
      `${key}\t${percentile(sorted, 0.5).toFixed(2)}\t${percentile(sorted, 0.95).toFixed(2)}\t${sorted.length}`,
    );
  }
  await on.stop();
  await off.stop();
} finally {
  await database.drop();
}
