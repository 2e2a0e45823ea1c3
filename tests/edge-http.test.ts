import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTestDatabase,
  graphql,
  readCounter,
  ROOT,
  startStack,
  type Stack,
  type TestDatabase,
} from '@stockgraph/testkit';
import { openUsageReader, usageByClient } from '@stockgraph/usage';
import { eventually } from '@stockgraph/testkit/saga';
import { print } from 'graphql';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayEnv } from '../gateway/src/env.js';
import { estimatedCost } from '../gateway/src/rate-limit.plugin.js';
import { apiSchemaOf } from '@stockgraph/graphql-kit/api-schema';
import { loadOperations } from '../schema/operations.js';

/**
 * The edge a web or mobile app meets (issue 27): CORS decided by a real browser, compression on the
 * wire, and client awareness in metrics and logs, against the real processes.
 */
const CHROMIUM = '/usr/bin/chromium';
let stack: Stack;
let gatewayUrl: string;
let profile: string;
let browser: BrowserContext;
/** Pages served from other origins than the gateway's: one allowed exactly, one by pattern, one not. */
const pageServers: http.Server[] = [];
let allowedOrigin: string;
let patternOrigin: string;
let refusedOrigin: string;
let viewer: Record<string, string>;
/** Where the gateway records schema usage: a database of this test's own. */
let usageDatabase: TestDatabase;

async function servePage(): Promise<number> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>web app</title>');
  });
  pageServers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  allowedOrigin = `http://127.0.0.1:${await servePage()}`;
  // Chromium resolves every *.localhost name to the loopback address.
  patternOrigin = `http://shop.localhost:${await servePage()}`;
  refusedOrigin = `http://127.0.0.1:${await servePage()}`;
  usageDatabase = await createTestDatabase('usage');
  stack = await startStack({
    gatewayEnv: {
      USAGE_DATABASE_URL: usageDatabase.url,
      USAGE_FLUSH_SECONDS: '1',
      CORS_ORIGINS: `${allowedOrigin},http://*.localhost:${new URL(patternOrigin).port}`,
      // The production default, which the test stack otherwise raises for load-generating tests.
      RATE_LIMIT_POINTS: String(parseGatewayEnv({}).RATE_LIMIT_POINTS),
      KNOWN_CLIENTS: 'stockgraph-web,stockgraph-ios',
    },
  });
  gatewayUrl = stack.gateway.url;
  viewer = await stack.as('VIEWER');
  profile = mkdtempSync(join(tmpdir(), 'edge-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await usageDatabase?.drop();
  await Promise.all(pageServers.map((server) => new Promise((resolve) => server.close(resolve))));
  if (profile) rmSync(profile, { recursive: true, force: true });
});

interface PageCall {
  outcome: 'read' | 'blocked';
  status?: number;
  body?: { data?: Record<string, unknown>; errors?: { message: string; extensions?: { code?: string } }[] };
  requestId?: string | null;
}

/** Runs fetch in a page of `origin`, the way a web app on that origin calls the gateway. */
async function callFrom(origin: string, init: { headers: Record<string, string>; body: string }): Promise<PageCall> {
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}/`);
    return await page.evaluate(
      async ({ url, init }) => {
        try {
          const response = await fetch(url, { method: 'POST', ...init });
          return {
            outcome: 'read' as const,
            status: response.status,
            body: (await response.json()) as PageCall['body'],
            requestId: response.headers.get('x-request-id'),
          };
        } catch {
          return { outcome: 'blocked' as const };
        }
      },
      { url: gatewayUrl, init },
    );
  } finally {
    await page.close();
  }
}

const QUERY = JSON.stringify({ query: 'query Catalogue { products(first: 3) { edges { node { sku } } } }' });

describe('CORS, decided by Chromium', () => {
  it('lets a web app on an allowed origin call the gateway and read its answer and request id', async () => {
    for (const origin of [allowedOrigin, patternOrigin]) {
      const call = await callFrom(origin, {
        headers: { 'content-type': 'application/json', 'apollographql-client-name': 'stockgraph-web', ...viewer },
        body: QUERY,
      });
      expect(call.outcome, origin).toBe('read');
      expect(call.status).toBe(200);
      expect((call.body?.data?.products as { edges: unknown[] }).edges).toHaveLength(3);
      expect(call.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('keeps the answer from a page on any other origin', async () => {
    const call = await callFrom(refusedOrigin, {
      headers: { 'content-type': 'application/json', ...viewer },
      body: QUERY,
    });
    expect(call.outcome).toBe('blocked');
  });

  it('still refuses a simple (CSRF-able) request, even from an allowed origin', async () => {
    // text/plain and no custom header: a form or a no-cors fetch from any site could send this.
    const call = await callFrom(allowedOrigin, {
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: 'mutation { signOut }' }),
    });
    expect(call.outcome).toBe('read');
    expect(call.status).toBe(400);
    expect(call.body?.errors?.[0]?.message).toMatch(/CSRF/);
  });
});

/** A POST without fetch's automatic decompression, to see the bytes on the wire. */
function rawPost(
  headers: Record<string, string>,
  body: string,
): Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.request(gatewayUrl, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    });
    request.on('error', reject).end(body);
  });
}

describe('compression', () => {
  const page = JSON.stringify({
    query: 'query Page { products(first: 50) { edges { node { id sku name unitPrice available } } } }',
  });

  it('answers a large page in brotli or gzip as asked, and a small answer as it is', async () => {
    const json = { 'content-type': 'application/json', ...viewer };
    const plain = await rawPost(json, page);
    expect(plain.headers['content-encoding']).toBeUndefined();
    // Answered without the compressor, but a cache in front must still key it by Accept-Encoding.
    expect(plain.headers.vary).toMatch(/Accept-Encoding/i);
    for (const encoding of ['br', 'gzip']) {
      const packed = await rawPost({ ...json, 'accept-encoding': encoding }, page);
      expect(packed.headers['content-encoding']).toBe(encoding);
      expect(packed.headers.vary).toMatch(/Accept-Encoding/i);
      expect(packed.body.length).toBeLessThan(plain.body.length / 2);
    }
    const small = await rawPost(
      { ...json, 'accept-encoding': 'br, gzip' },
      JSON.stringify({ query: '{ __typename }' }),
    );
    expect(small.headers['content-encoding']).toBeUndefined();
  });

  it('never compresses a server-sent event stream', async () => {
    const stream = await rawPost(
      { 'content-type': 'application/json', accept: 'text/event-stream', 'accept-encoding': 'gzip, br', ...viewer },
      page,
    );
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    // graphql-sse itself says `none`, which proxies also read as "leave this alone".
    expect(stream.headers['content-encoding'] ?? 'none').toBe('none');
    expect(stream.body.toString()).toContain('event: next');
  });
});

describe('client awareness', () => {
  it('counts operations per known client, everything else as other, and logs what the client declared', async () => {
    const metrics = new URL('/metrics', gatewayUrl).toString();
    const count = (client: string) => readCounter(metrics, 'stockgraph_client_operations_total', `client="${client}"`);
    const before = { web: await count('stockgraph-web'), other: await count('other') };
    const as = (headers: Record<string, string>) => graphql(gatewayUrl, '{ __typename }', {}, headers);
    await as({ 'apollographql-client-name': 'stockgraph-web', 'apollographql-client-version': '4.0.1' });
    await as({ 'graphql-client-name': 'stockgraph-web', 'graphql-client-version': '4.0.2' });
    await as({ 'apollographql-client-name': 'ios-unlisted', 'apollographql-client-version': '1.0' });
    await as({ 'apollographql-client-name': `bad"}{name${'x'.repeat(300)}` });
    await as({});
    expect((await count('stockgraph-web')) - before.web).toBe(2);
    expect((await count('other')) - before.other).toBe(3);

    // Labels stay bounded: neither an unlisted name nor a malformed one becomes a series.
    const page = await (await fetch(metrics)).text();
    expect(page).not.toContain('ios-unlisted');
    expect(page).not.toContain('bad"');

    const lines = stack.gateway.output
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'graphql');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ client: 'stockgraph-web', clientVersion: '4.0.2' }),
        expect.objectContaining({ client: 'ios-unlisted', clientVersion: '1.0' }),
        expect.objectContaining({ client: 'invalid' }),
      ]),
    );
    expect(stack.gateway.output.join('\n')).not.toContain('bad"}{name');
  });
});

describe('the default rate limit (RATE_LIMIT_POINTS, derived from the web app)', () => {
  const operations = loadOperations(ROOT, 'schema/operations').operations;
  const text = (name: string) => print(operations.find((o) => o.name === name)!.document);
  const schema = apiSchemaOf(readFileSync(join(ROOT, 'schema/supergraph.graphql'), 'utf8'));

  it('is four times the busiest screen loaded once a second for a whole window', () => {
    const cost = (name: string) => estimatedCost(schema, operations.find((o) => o.name === name)!.document);
    // Every screen shows the signed-in user in its header (Me) beside its own operations.
    const screens = operations.filter((o) => !['Me', 'SignIn', 'RefreshSession', 'SignOut'].includes(o.name));
    const busiest = Math.max(...screens.map((o) => cost(o.name))) + cost('Me');
    const windowSeconds = Number(parseGatewayEnv({}).RATE_LIMIT_WINDOW_SECONDS);
    const derived = busiest * windowSeconds * 4;
    // Rounded, but to within a tenth of the derivation: the default follows the operations.
    expect(Math.abs(parseGatewayEnv({}).RATE_LIMIT_POINTS - derived) / derived).toBeLessThan(0.1);
  });

  it('never refuses a person refreshing the busiest screen, and refuses a scraper', async () => {
    const manager = await stack.as('MANAGER');
    // A whole window's worth of loads (one a second for 60 s), sent at once: the budget counts them all the same.
    for (let load = 0; load < 60; load += 1) {
      const history = await graphql(gatewayUrl, text('OrderHistory'), { first: 50 }, manager);
      const me = await graphql(gatewayUrl, text('Me'), {}, manager);
      expect([history.status, me.status], `load ${load}`).toEqual([200, 200]);
      expect(history.errors).toBeUndefined();
    }
    // Another user pulling every order with its lines, 100 a request, as fast as it can.
    const scraper = await stack.as('STAFF');
    const pull =
      '{ orders(first: 100) { edges { node { id number total customer { id name } items { quantity product { id sku name } } } } } }';
    const statuses: number[] = [];
    for (let request = 0; request < 10 && !statuses.includes(429); request += 1)
      statuses.push((await graphql(gatewayUrl, pull, {}, scraper)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });
});

describe('schema usage from real traffic', () => {
  it('records which coordinates each client version used, in PostgreSQL, within a flush', async () => {
    const headers = {
      ...viewer,
      'apollographql-client-name': 'stockgraph-ios',
      'apollographql-client-version': '5.1.0',
    };
    const answer = await graphql(
      gatewayUrl,
      'query Stock($sku: String!) { productBySku(sku: $sku) { id available } }',
      { sku: 'ELE-0001' },
      headers,
    );
    expect(answer.status).toBe(200);
    // The recorder creates its table at start without holding the gateway up: wait until it exists.
    const sql = await eventually(() => openUsageReader(usageDatabase.url).catch(() => null), 20_000, 'the usage table');
    try {
      const used = await eventually(
        async () => {
          const rows = await usageByClient(sql, {
            coordinates: ['Query.productBySku', 'Product.available'],
            types: [],
            days: 1,
          });
          const ios = rows.filter((r) => r.clientName === 'stockgraph-ios' && r.clientVersion === '5.1.0');
          return ios.length === 2 ? ios : null;
        },
        20_000,
        'the usage rows',
      );
      expect(used.map((r) => r.coordinate).sort()).toEqual(['Product.available', 'Query.productBySku']);
    } finally {
      await sql.end();
    }
  });
});
