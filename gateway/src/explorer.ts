import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import {
  css,
  editorWorkerService,
  favicon,
  graphqlWorker,
  js,
  jsonWorker,
} from '@graphql-yoga/render-graphiql/graphiql';
import type { ServiceOptions } from '@stockgraph/server';

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
  globalAPI: false,
  getWorkerUrl: (_moduleId, label) => new URL('explorer/' + ${JSON.stringify(WORKERS)}[label], document.baseURI).href,
};
document.addEventListener('DOMContentLoaded', () => {
  const options = JSON.parse(document.getElementById('explorer-options').textContent);
  options.endpoint = new URL(options.endpoint, document.baseURI).href;
  YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), options);
});
`;

function defaultQuery(demoUsers: boolean): string {
  const login = demoUsers
    ? 'email: "viewer@stockgraph.local", password: "stockgraph"'
    : 'email: "you@example.com", password: "…"';
  return `# Stockgraph explorer: the supergraph of this gateway. The Docs button (top left) lists
# every type and field with its description.
#
# Every operation but login needs a signed-in user:
#   1. Run SignIn${demoUsers ? ' (demo users: admin@, manager@, staff@, viewer@stockgraph.local)' : ''}.
#   2. In Headers below, uncomment the Authorization line and paste data.login.accessToken.
#   3. Run Catalogue.

mutation SignIn {
  login(${login}) {
    accessToken
    refreshToken
    expiresAt
  }
}

query Catalogue {
  products(first: 5) {
    totalCount
    edges { node { sku name available unitPrice } }
  }
}
`;
}

// GraphiQL reads the headers editor as JSON with comments: an example that sends nothing until edited.
const HEADERS = `{
  // Paste the accessToken of the login mutation after "Bearer ":
  // "Authorization": "Bearer <accessToken>"
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
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>The explorer needs JavaScript.</noscript>
    <div id="root"></div>
    <script type="application/json" id="explorer-options">${json}</script>
    <script src="explorer/start.js"></script>
    <script src="explorer/graphiql.js"></script>
  </body>
</html>
`;
}

export interface ExplorerSettings {
  /** Put the demo users' credentials in the example (never in production). */
  demoUsers: boolean;
}

/** Routes for startService: the explorer at `/` and at `/graphql` for a browser, its files under `/explorer/`. */
export function explorerRoutes(settings: ExplorerSettings): (app: App) => void {
  const html = asset(
    'text/html; charset=utf-8',
    page({
      title: 'Stockgraph explorer',
      endpoint: 'graphql',
      defaultQuery: defaultQuery(settings.demoUsers),
      headers: HEADERS,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      // A bearer token in localStorage outlives the session it belongs to.
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    }),
  );
  const files: Record<string, Asset> = {
    'start.js': asset('text/javascript; charset=utf-8', START),
    'graphiql.js': asset('text/javascript; charset=utf-8', js),
    'graphiql.css': asset('text/css; charset=utf-8', css),
    'favicon.ico': asset('image/x-icon', Buffer.from(favicon.slice(favicon.indexOf(',') + 1), 'base64')),
    [WORKERS.editorWorkerService]: asset('text/javascript; charset=utf-8', editorWorkerService),
    [WORKERS.json]: asset('text/javascript; charset=utf-8', jsonWorker),
    [WORKERS.graphql]: asset('text/javascript; charset=utf-8', graphqlWorker),
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
    app.get('/explorer/:file', (req, res, next) => {
      const file = files[req.params.file];
      if (file) return send(file)(req, res, next);
      next();
    });
  };
}
