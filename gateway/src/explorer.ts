import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { ServiceOptions } from '@stockgraph/server';
import gatewayPackage from '../package.json' with { type: 'json' };
import { EXPLORER_CLIENT } from './client-awareness.js';
import { PANEL_CSS, SIGN_IN_SCRIPT } from './explorer-sign-in.js';

type App = Parameters<NonNullable<ServiceOptions<never>['routes']>>[0];
type Request = Parameters<ServiceOptions<never>['context']>[0];
type Handler = (req: Request, res: ServerResponse, next: () => void) => void | Promise<void>;

const compress = promisify(gzip);

/**
 * GraphiQL (the build @graphql-yoga/render-graphiql ships: React, Monaco and its workers) served as
 * files of this gateway, so the explorer works with no internet. Files rather than Yoga's single
 * inline page: the browser caches 9 MB once instead of downloading it with every visit, and the page
 * can forbid every other origin in its Content-Security-Policy.
 */
interface Asset {
  type: string;
  body: Buffer;
  etag: string;
  gzipped?: Promise<Buffer>;
}

function asset(type: string, content: string | Buffer): Asset {
  const body = typeof content === 'string' ? Buffer.from(content) : content;
  return { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

// Monaco asks for a worker by label; the labels are those of @graphql-yoga/render-graphiql.
const WORKERS = { editorWorkerService: 'editor.worker.js', json: 'json.worker.js', graphql: 'graphql.worker.js' };

const START = `// Monaco reads this before GraphiQL loads; the page renders once every script has run.
self.MonacoEnvironment = {
  // The sign-in panel writes the Authorization header into GraphiQL's Headers editor through it.
  globalAPI: true,
  getWorkerUrl: (_moduleId, label) => new URL('explorer/' + ${JSON.stringify(WORKERS)}[label], document.baseURI).href,
};
document.addEventListener('DOMContentLoaded', async () => {
  const options = JSON.parse(document.getElementById('explorer-options').textContent);
  options.endpoint = new URL(options.endpoint, document.baseURI).href;
  // The schema with who may use each field in its docs; without it GraphiQL introspects /graphql itself.
  try {
    const response = await fetch(new URL('explorer/schema.json', document.baseURI));
    if (response.ok) options.schema = await response.json();
  } catch {}
  YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), options);
});
`;

function defaultQuery(demoUsers: boolean): string {
  return `# Stockgraph explorer: the supergraph of this gateway. The Docs button (top left) lists
# every type and field with its description and who may use it.
#
# Every operation but login needs a signed-in user: sign in above${demoUsers ? ' (demo users: admin@, manager@,\n# staff@, viewer@stockgraph.local, password stockgraph)' : ''}; the
# explorer puts your token in the Authorization header (Headers tab below) and renews it.
#
# Subscriptions run here too, over Server-Sent Events: put product ids from Catalogue into
# LiveStock, run it, and each stock change of those products appears on the right as it happens.

query Catalogue {
  products(first: 5) {
    totalCount
    edges { node { id sku name available unitPrice } }
  }
}

subscription LiveStock {
  stockChanged(productIds: ["<product id>"]) {
    product { sku available }
  }
}
`;
}

// GraphiQL reads the headers editor as JSON with comments: nothing is sent until someone signs in.
const HEADERS = `{
  // Sign in above and the explorer adds your Authorization header here.
}`;

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // Monaco and React set inline styles.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "worker-src 'self'",
  "connect-src 'self'",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function page(options: Record<string, unknown>): string {
  // `<` escaped so no value can close the script element.
  const json = JSON.stringify(options).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Stockgraph explorer</title>
    <link rel="icon" href="explorer/favicon.ico" />
    <link rel="stylesheet" href="explorer/graphiql.css" />
    <link rel="stylesheet" href="explorer/sign-in.css" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>The explorer needs JavaScript.</noscript>
    <form id="sign-in" data-state="signed-out" autocomplete="on">
      <strong>Sign in</strong>
      <input name="email" type="email" placeholder="email" aria-label="Email" autocomplete="username" required />
      <input name="password" type="password" placeholder="password" aria-label="Password" autocomplete="current-password" required />
      <button type="submit">Sign in</button>
      <button type="button" id="sign-out">Sign out</button>
      <span id="sign-in-status" role="status">Not signed in: only login works.</span>
    </form>
    <div id="root"></div>
    <script type="application/json" id="explorer-options">${json}</script>
    <script src="explorer/start.js"></script>
    <script src="explorer/graphiql.js"></script>
    <script src="explorer/sign-in.js"></script>
  </body>
</html>
`;
}

export interface ExplorerSettings {
  /** Name the demo users in the example (never in production). */
  demoUsers: boolean;
  /** The current API schema's introspection with who may use each field, as JSON; null before the first load. */
  schemaJson: () => string | null;
}

/** Routes for startService: the explorer at `/` and at `/graphql` for a browser, its files under `/explorer/`. */
export function explorerRoutes(settings: ExplorerSettings): (app: App) => void {
  const html = asset(
    'text/html; charset=utf-8',
    page({
      title: 'Stockgraph explorer',
      endpoint: 'graphql',
      // Subscriptions over GraphQL over SSE ("distinct connections": Accept: text/event-stream on the
      // same endpoint), which needs nothing but fetch, so the page's connect-src 'self' covers it.
      subscriptionsProtocol: 'GRAPHQL_SSE',
      defaultQuery: defaultQuery(settings.demoUsers),
      headers: HEADERS,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      // A bearer token in localStorage outlives the session it belongs to.
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
      // Client awareness: the explorer's operations are counted and logged as its own.
      additionalHeaders: {
        'apollographql-client-name': EXPLORER_CLIENT,
        'apollographql-client-version': gatewayPackage.version,
      },
    }),
  );
  // GraphiQL's 9 MB of scripts are loaded, hashed and kept on the first request for one of them, not at
  // start: parsing them took ~200 ms of every gateway start, most of which never serve the explorer.
  let files: Promise<Record<string, Asset>> | undefined;
  const loadFiles = async (): Promise<Record<string, Asset>> => {
    const { css, editorWorkerService, favicon, graphqlWorker, js, jsonWorker } =
      await import('@graphql-yoga/render-graphiql/graphiql');
    return {
      'start.js': asset('text/javascript; charset=utf-8', START),
      'graphiql.js': asset('text/javascript; charset=utf-8', js),
      'graphiql.css': asset('text/css; charset=utf-8', css),
      'sign-in.js': asset('text/javascript; charset=utf-8', SIGN_IN_SCRIPT),
      'sign-in.css': asset('text/css; charset=utf-8', PANEL_CSS),
      'favicon.ico': asset('image/x-icon', Buffer.from(favicon.slice(favicon.indexOf(',') + 1), 'base64')),
      [WORKERS.editorWorkerService]: asset('text/javascript; charset=utf-8', editorWorkerService),
      [WORKERS.json]: asset('text/javascript; charset=utf-8', jsonWorker),
      [WORKERS.graphql]: asset('text/javascript; charset=utf-8', graphqlWorker),
    };
  };

  const send =
    (file: Asset, headers: Record<string, string> = {}): Handler =>
    async (req, res) => {
      const head = {
        'content-type': file.type,
        etag: file.etag,
        'cache-control': 'no-cache',
        vary: 'accept-encoding',
        'x-content-type-options': 'nosniff',
        ...headers,
      };
      for (const [name, value] of Object.entries(head)) res.setHeader(name, value);
      if (req.headers['if-none-match'] === file.etag) {
        res.writeHead(304).end();
        return;
      }
      let body = file.body;
      if (body.length > 1024 && req.acceptsEncodings('gzip') === 'gzip') {
        file.gzipped ??= compress(body, { level: 9 });
        body = await file.gzipped;
        res.setHeader('content-encoding', 'gzip');
      }
      res.setHeader('content-length', body.length);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
  const showPage = send(html, { 'content-security-policy': CSP, 'referrer-policy': 'no-referrer' });

  return (app) => {
    app.get('/', showPage);
    // A browser opening the endpoint gets the explorer; GraphQL over GET (a query or extensions parameter) does not.
    app.get('/graphql', (req, res, next) => {
      const browser =
        req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html';
      if (browser && req.query.query === undefined && req.query.extensions === undefined)
        return showPage(req, res, next);
      next();
    });
    let schema: { json: string; file: Asset } | null = null;
    app.get('/explorer/schema.json', (req, res, next) => {
      const json = settings.schemaJson();
      if (json === null) return next();
      // Built again only when the supergraph changed (a reload shows the new docs).
      if (schema?.json !== json) schema = { json, file: asset('application/json; charset=utf-8', json) };
      return send(schema.file)(req, res, next);
    });
    app.get('/explorer/:file', async (req, res, next) => {
      // A failed load is tried again by the next request rather than kept.
      files ??= loadFiles().catch((error: unknown) => {
        files = undefined;
        throw error;
      });
      const file = (await files)[req.params.file];
      if (file) return send(file)(req, res, next);
      next();
    });
  };
}
