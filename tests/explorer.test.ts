import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { graphql, type ServiceProcess, type Stack } from '@stockgraph/testkit';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropRedisKeys, productWithStock, startSagaStack } from '@stockgraph/testkit/saga';

/**
 * The schema explorer in Debian's Chromium, served by a real gateway in front of the four subgraphs:
 * it must render, sign in from its panel, show the supergraph's docs with who may read each field, run
 * a query with the panel's token and a live subscription, and never reach beyond the gateway's origin (the explorer has to work with no internet).
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, 'artifacts');

let stack: Stack;
/** The stack's Redis key prefix: the services' events, which subscriptions follow, go over real Redis Streams. */
let prefix: string;
let origin: string;
let profile: string;
let browser: BrowserContext;
let page: Page;
/** Every URL the browser asked for, workers and WebSockets included. */
const requested: string[] = [];
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  ({ stack, prefix } = await startSagaStack());
  origin = new URL(stack.gateway.url).origin;
  profile = mkdtempSync(join(tmpdir(), 'explorer-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
  browser.on('request', (request) => requested.push(request.url()));
  // Were the page to reach out anyway, the request is recorded above and goes nowhere.
  await browser.route(
    (url) => url.origin !== origin,
    (route) => route.abort('blockedbyclient'),
  );
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on('websocket', (socket) => requested.push(socket.url()));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // Content-Security-Policy violations and failed loads are reported as console errors.
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (prefix) await dropRedisKeys(prefix);
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** What an editor shows; Monaco renders spaces as no-break spaces. */
async function shown(locator: ReturnType<Page['locator']>): Promise<string> {
  return (await locator.innerText()).replace(/\u00a0/g, ' ');
}

/** A GET without fetch's automatic decompression, to see the bytes on the wire. */
function raw(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

/** Replaces the whole text of a Monaco editor, the way a person pastes into it. */
async function paste(editor: ReturnType<Page['locator']>, text: string) {
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  // Deleting first: text typed over a selection would be wrapped in brackets (Monaco's auto-surround).
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

/** Signs in through the explorer's panel and waits until it says who is signed in. */
async function signIn(email: string, role: string) {
  const panel = page.locator('#sign-in');
  await panel.getByLabel('Email').fill(email);
  await panel.getByLabel('Password').fill('stockgraph');
  await panel.getByRole('button', { name: 'Sign in' }).click();
  await expect
    .poll(() => panel.locator('#sign-in-status').innerText(), { timeout: 20_000 })
    .toBe(`Signed in as ${email} (${role})`);
}

describe('the schema explorer in Chromium', () => {
  it('signs in from its panel, runs a typed query with that token, shows who may read each field, and requests nothing outside the gateway', async () => {
    const response = await page.goto(`${origin}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    const run = page.getByRole('button', { name: 'Execute query (Ctrl-Enter)' });
    await run.waitFor();

    const editors = page.locator('.graphiql-editor:not(.hidden) .monaco-editor');
    const [queryEditor, headersEditor] = [editors.nth(0), editors.nth(1)];
    await expect.poll(() => shown(headersEditor)).toContain('Sign in above');

    const panel = page.locator('#sign-in');
    await panel.getByLabel('Email').fill('viewer@stockgraph.local');
    await panel.getByLabel('Password').fill('wrong password');
    await panel.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => panel.locator('#sign-in-status').innerText(), { timeout: 20_000 })
      .toMatch(/^Sign-in failed: .*\(UNAUTHENTICATED\)/);
    expect(await shown(headersEditor)).not.toContain('Bearer');

    await signIn('viewer@stockgraph.local', 'VIEWER');
    await expect.poll(() => shown(headersEditor)).toMatch(/"Authorization": "Bearer [\w-]+\.[\w-]+\.[\w-]+/);
    await queryEditor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    // Typed key by key: Monaco closes each brace as it opens and types over it as it closes.
    await page.keyboard.type(
      'query ExplorerCatalogue { products(first: 3) { totalCount edges { node { sku name } } } }',
    );

    // GraphiQL takes the operation name from the editor after a debounce; the tab shows it has.
    await page.locator('.graphiql-tab').filter({ hasText: 'ExplorerCatalogue' }).waitFor();
    const [answer] = await Promise.all([
      page.waitForResponse(
        (r) => r.url() === `${origin}/graphql` && (r.request().postData() ?? '').includes('ExplorerCatalogue'),
      ),
      run.click(),
    ]);
    const sent = await answer.request().allHeaders();
    expect(sent.authorization).toMatch(/^Bearer /);
    // Client awareness: the explorer names itself, so its operations are counted as its own.
    expect(sent['apollographql-client-name']).toBe('stockgraph-explorer');
    expect(sent['apollographql-client-version']).toMatch(/^\d+\.\d+\.\d+/);
    const body = (await answer.json()) as {
      data?: { products: { edges: { node: { sku: string } }[] } };
      errors?: unknown;
    };
    expect(body.errors).toBeUndefined();
    const skus = body.data!.products.edges.map((e) => e.node.sku);
    expect(skus).toHaveLength(3);
    const result = page.locator('.graphiql-response');
    for (const sku of skus) await expect.poll(() => shown(result)).toContain(`"sku": "${sku}"`);

    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    const docs = page.locator('.graphiql-doc-explorer');
    await docs.getByText('Product', { exact: true }).click();
    await expect.poll(() => docs.innerText()).toContain('Something we stock and sell.');
    const productDocs = await docs.innerText();
    // Who may read each field, from the supergraph's rules: VIEWER reads stock, only MANAGER and up cost prices.
    expect(productDocs).toContain('Units that can still be promised: onHand - reserved. Readable by: VIEWER and up.');
    expect(productDocs).toContain('What one unit costs us. Readable by: MANAGER and up.');
    // The annotations are the explorer's: introspection at /graphql keeps the subgraphs' descriptions.
    const introspected = await graphql<{ __type: { fields: { description: string }[] } }>(
      stack.gateway.url,
      '{ __type(name: "Product") { fields { description } } }',
    );
    expect(introspected.data!.__type.fields.some((f) => f.description.includes('Readable by'))).toBe(false);

    await page.getByRole('button', { name: /Prettify query/ }).click();
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'explorer.png') });

    await panel.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => panel.locator('#sign-in-status').innerText(), { timeout: 20_000 }).toBe('Signed out');
    expect(await shown(headersEditor)).not.toContain('Authorization');

    const outside = requested.filter((url) => !url.startsWith(`${origin}/`) && !/^(data|blob):/.test(url));
    expect(outside).toEqual([]);
    expect(requested).toEqual(
      expect.arrayContaining([
        `${origin}/explorer/graphiql.js`,
        `${origin}/explorer/graphql.worker.js`,
        `${origin}/explorer/schema.json`,
        `${origin}/graphql`,
      ]),
    );
    expect(problems).toEqual([]);
    const metrics = await (await fetch(new URL('/metrics', stack.gateway.url))).text();
    expect(metrics).toMatch(
      /stockgraph_client_operations_total\{client="stockgraph-explorer",outcome="ok"[^}]*\} [1-9]/,
    );
  });

  it('runs a live subscription over SSE: a stock change made elsewhere appears in the result pane', async () => {
    const product = await productWithStock(stack, 20);
    await page.goto(`${origin}/`);
    const run = page.getByRole('button', { name: 'Execute query (Ctrl-Enter)' });
    await run.waitFor();
    await signIn('viewer@stockgraph.local', 'VIEWER');
    const editors = page.locator('.graphiql-editor:not(.hidden) .monaco-editor');
    await paste(
      editors.nth(0),
      `subscription ExplorerLiveStock { stockChanged(productIds: ["${product}"]) { available movement { reason delta } product { sku available } } }`,
    );
    await page.locator('.graphiql-tab').filter({ hasText: 'ExplorerLiveStock' }).waitFor();
    const [stream] = await Promise.all([
      page.waitForResponse(
        (r) => r.url().startsWith(`${origin}/graphql`) && r.request().headers().accept === 'text/event-stream',
      ),
      run.click(),
    ]);
    expect(stream.status()).toBe(200);
    expect(stream.headers()['content-type']).toMatch(/^text\/event-stream/);

    // A manager receives stock through another client while the explorer's stream is open.
    const received = await graphql(
      stack.gateway.url,
      'mutation ($id: ID!) { receiveStock(productId: $id, quantity: 7) { available } }',
      { id: product },
      await stack.as('MANAGER'),
    );
    expect(received.errors).toBeUndefined();
    const result = page.locator('.graphiql-response');
    await expect.poll(() => shown(result), { timeout: 30_000 }).toContain('"available": 27');
    expect(await shown(result)).toContain('"delta": 7');
    // Still streaming: the button stops the subscription.
    await page.getByRole('button', { name: /Stop/ }).click();
    await page.getByRole('button', { name: 'Execute query (Ctrl-Enter)' }).waitFor();
    expect(problems).toEqual([]);
  });
});

describe('the explorer over HTTP', () => {
  it('answers a browser at /graphql, and leaves GraphQL, health, readiness and metrics alone', async () => {
    const html = await fetch(stack.gateway.url, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await html.text()).toContain('<title>Stockgraph explorer</title>');
    const query = await graphql(stack.gateway.url, '{ __typename }');
    expect(query.data).toEqual({ __typename: 'Query' });
    const get = await fetch(`${stack.gateway.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { 'apollo-require-preflight': '1' },
    });
    expect(await get.json()).toEqual({ data: { __typename: 'Query' } });
    for (const path of ['/health', '/ready', '/metrics'])
      expect((await fetch(new URL(path, origin))).status, path).toBe(200);
  });

  it('serves its files compressed and revalidated by ETag', async () => {
    const url = `${origin}/explorer/graphiql.js`;
    const first = await raw(url, { 'accept-encoding': 'gzip' });
    expect(first.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(first.body).length).toBeGreaterThan(3 * first.body.length);
    const again = await raw(url, { 'if-none-match': String(first.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect((await fetch(`${origin}/explorer/nothing.js`)).status).toBe(404);
  });

  it('is not served when switched off', async () => {
    let off: ServiceProcess | undefined;
    try {
      off = await stack.startGateway({ EXPLORER_ENABLED: 'false' });
      expect((await fetch(new URL('/', off.url))).status).toBe(404);
      const browserAtEndpoint = await fetch(off.url, { headers: { accept: 'text/html' } });
      expect(browserAtEndpoint.headers.get('content-type')).not.toMatch(/text\/html/);
      expect((await fetch(new URL('/explorer/graphiql.js', off.url))).status).toBe(404);
    } finally {
      await off?.stop();
    }
  });
});
