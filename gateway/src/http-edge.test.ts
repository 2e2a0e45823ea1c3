import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGatewayEnv } from './env.js';
import { httpEdge, originAllowed, parseOriginRule } from './http-edge.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** An Express app with the gateway's edge in front of a /graphql that answers a fixed JSON body. */
async function serve(env: Record<string, string>, body: unknown = { data: { ok: true } }): Promise<string> {
  const app = express();
  app.use('/graphql', ...httpEdge(parseGatewayEnv(env)));
  app.post('/graphql', (_req, res) => void res.json(body));
  app.options('/graphql', (_req, res) => void res.status(405).end());
  const server = http.createServer(app).listen(0, '127.0.0.1');
  servers.push(server);
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

const preflight = (url: string, origin: string) =>
  fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,authorization,apollographql-client-name',
    },
  });

describe('CORS_ORIGINS', () => {
  it('takes exact origins and patterns, and refuses what is not an origin', () => {
    expect(parseOriginRule('https://App.Example.com:443')).toEqual({ exact: 'https://app.example.com' });
    const rules = ['https://*.example.com', 'http://localhost:*'].map(parseOriginRule);
    expect(originAllowed(rules, 'https://shop.eu.example.com')).toBe(true);
    expect(originAllowed(rules, 'https://example.com')).toBe(false);
    expect(originAllowed(rules, 'https://evil-example.com')).toBe(false);
    expect(originAllowed(rules, 'https://shop.example.com.evil.net')).toBe(false);
    expect(originAllowed(rules, 'http://localhost:5173')).toBe(true);
    expect(originAllowed(rules, 'http://localhost')).toBe(true);
    expect(originAllowed(rules, `https://${'a.'.repeat(200)}example.com`)).toBe(false);
    for (const bad of [
      '*',
      'https://*',
      'https://app.example.com/',
      'https://app.example.com/path',
      'ftp://x.com',
      'https://a.com:99999',
      'https://*.*.com',
    ])
      expect(() => parseGatewayEnv({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS/);
  });

  it('allows no other origin by default in production, and localhost by default elsewhere', async () => {
    // A whole production env needs secrets this test has no use for; the edge alone decides CORS.
    const edgeOnly = await serveEdge({ NODE_ENV: 'production' });
    expect((await preflight(edgeOnly, 'http://localhost:5173')).headers.get('access-control-allow-origin')).toBeNull();
    const development = await serve({ NODE_ENV: 'development' });
    const answer = await preflight(development, 'http://localhost:5173');
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  });

  it('answers an allowed preflight with the headers clients send, cached, and varies by Origin', async () => {
    const url = await serve({ CORS_ORIGINS: 'https://app.example.com', CORS_MAX_AGE_SECONDS: '900' });
    const allowed = await preflight(url, 'https://app.example.com');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('access-control-max-age')).toBe('900');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    const allowedHeaders = allowed.headers.get('access-control-allow-headers')!.split(',');
    for (const header of ['content-type', 'authorization', 'apollographql-client-name', 'graphql-client-version'])
      expect(allowedHeaders).toContain(header);
    expect(allowed.headers.get('vary')).toMatch(/Origin/);

    const refused = await preflight(url, 'https://evil.example.net');
    expect(refused.status).toBe(204);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(refused.headers.get('vary')).toMatch(/Origin/);

    // A long or odd Origin is neither reflected nor trips anything.
    const long = await preflight(url, `https://${'a'.repeat(5000)}.example.com`);
    expect(long.headers.get('access-control-allow-origin')).toBeNull();

    const post = await fetch(url, { method: 'POST', headers: { origin: 'https://app.example.com' } });
    expect(post.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(post.headers.get('access-control-expose-headers')).toContain('x-request-id');
  });

  it('sends Access-Control-Allow-Credentials only when asked to', async () => {
    const url = await serve({ CORS_ORIGINS: 'https://app.example.com', CORS_CREDENTIALS: 'true' });
    expect((await preflight(url, 'https://app.example.com')).headers.get('access-control-allow-credentials')).toBe(
      'true',
    );
  });
});

describe('compression', () => {
  const big = { data: { products: Array.from({ length: 200 }, (_, i) => ({ id: String(i), name: `Product ${i}` })) } };

  it('compresses large answers as Accept-Encoding asks and leaves small ones alone', async () => {
    const url = await serve({}, big);
    for (const encoding of ['br', 'gzip']) {
      const answer = await rawPost(url, { 'accept-encoding': encoding });
      expect(answer.headers['content-encoding']).toBe(encoding);
      expect(answer.body.length).toBeLessThan(JSON.stringify(big).length / 3);
    }
    expect((await rawPost(url, {})).headers['content-encoding']).toBeUndefined();
    const small = await serve({});
    expect((await rawPost(small, { 'accept-encoding': 'gzip' })).headers['content-encoding']).toBeUndefined();
    const off = await serve({ COMPRESSION_ENABLED: 'false' }, big);
    expect((await rawPost(off, { 'accept-encoding': 'gzip' })).headers['content-encoding']).toBeUndefined();
  });
});

/** The edge handlers alone, for settings a whole gateway env would refuse without more of them. */
async function serveEdge(env: { NODE_ENV: string }): Promise<string> {
  const app = express();
  app.use(
    '/graphql',
    ...httpEdge({
      ...env,
      CORS_CREDENTIALS: false,
      CORS_MAX_AGE_SECONDS: 600,
      COMPRESSION_ENABLED: true,
      COMPRESSION_THRESHOLD_BYTES: 1024,
    }),
  );
  const server = http.createServer(app).listen(0, '127.0.0.1');
  servers.push(server);
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

/** A POST without fetch's automatic decompression, to see the bytes on the wire. */
function rawPost(
  url: string,
  headers: Record<string, string>,
): Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    });
    request.on('error', reject).end();
  });
}
