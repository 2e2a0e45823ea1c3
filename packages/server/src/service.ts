import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApolloServer,
  type ApolloServerOptions,
  type ApolloServerOptionsWithGateway,
  type ApolloServerOptionsWithSchema,
  type ApolloServerPlugin,
  type BaseContext,
} from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import type { Logger } from '@stockgraph/logger';
import proxyAddress from 'proxy-addr';
import express, { type Request } from 'express';
import { createErrorFormatter } from './errors.js';
import { requestScope, type ServiceMetrics } from './metrics.js';
import { startMetricsServer } from './metrics-server.js';
import { observabilityPlugin } from './observability.plugin.js';
import { assignRequestId, requestScopeMiddleware } from './request-tracing.js';
import { tracingPlugin } from './tracing.plugin.js';
import { drainMillis, trackShutdown } from './shutdown.js';

export type ReadinessCheck = () => Promise<unknown>;

export interface ServiceOptions<TContext extends BaseContext> {
  name: string;
  host: string;
  port: number;
  logger: Logger;
  metrics: ServiceMetrics;
  /** A subgraph passes its schema; the gateway passes its own Apollo options. */
  apollo:
    Pick<ApolloServerOptionsWithSchema<TContext>, 'schema'> | Pick<ApolloServerOptionsWithGateway<TContext>, 'gateway'>;
  context: (req: Request) => Promise<TContext>;
  /** Dependencies that must answer for /ready (database, subgraphs, Redis). */
  readiness: Record<string, ReadinessCheck>;
  plugins?: ApolloServerPlugin<TContext>[];
  /**
   * Apollo's automatic persisted queries. Off unless given: subgraphs get every operation's text from
   * the gateway, and Apollo's own cache would keep anonymous callers' registrations (issue 28, 14).
   */
  persistedQueries?: ApolloServerOptions<TContext>['persistedQueries'];
  introspection?: boolean;
  /** Express "trust proxy": whose X-Forwarded-For is believed. */
  trustProxy?: string | number;
  /** Extra validation of every operation (the gateway's depth, alias and cost limits). */
  validationRules?: ApolloServerOptions<TContext>['validationRules'];
  /** Serve /metrics on this port instead of the service port (METRICS_PORT). */
  metricsPort?: number;
  /** Production: no "did you mean" suggestions that map the schema for a caller without introspection. */
  hideSchemaDetails?: boolean;
  /** graphql-js parse options (the gateway's token limit: a parse error, so a 400). */
  parseOptions?: ApolloServerOptions<TContext>['parseOptions'];
  /** Operation names that get their own metric series (the gateway's manifest); others are grouped. */
  knownOperations?: ReadonlySet<string>;
  /**
   * Middleware in front of everything served at /graphql, the extra routes included (the gateway's
   * CORS and compression): a browser's preflight must be answered before any route looks at it.
   */
  graphqlEdge?: express.RequestHandler[];
  /** Extra HTTP routes (the gateway's explorer), mounted before /graphql. */
  routes?: (app: express.Express) => void;
  /** The client-facing process (the gateway): every error carries extensions.requestId. */
  requestIdsInErrors?: boolean;
  /** SHUTDOWN_TIMEOUT_MS: how long stop() lets in-flight requests finish before it cuts connections. */
  shutdownTimeoutMs?: number;
  /**
   * Called once Apollo has started and before the server listens: the gateway's subscriptions run
   * their events' queries through this Apollo server and take WebSocket upgrades from the HTTP server.
   */
  attach?: (parts: {
    apollo: ApolloServer<TContext>;
    httpServer: http.Server;
    /**
     * The client's address for a request that bypasses Express (a WebSocket upgrade), by the same
     * TRUST_PROXY rule as `req.ip`: the sign-in budgets per address must not count the proxy instead.
     */
    clientAddress: (req: http.IncomingMessage) => string;
  }) => void;
}

export interface RunningService {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 2000;

async function checkAll(readiness: Record<string, ReadinessCheck>) {
  const entries = await Promise.all(
    Object.entries(readiness).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('timed out')), READY_TIMEOUT_MS);
          }),
        ]);
        return [name, 'ok'] as const;
      } catch (error) {
        return [name, (error as Error).message || 'failed'] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ok: entries.every(([, status]) => status === 'ok'), checks: Object.fromEntries(entries) };
}

/** Starts the HTTP server of one process: /graphql, /health, /ready and /metrics. */
export async function startService<TContext extends BaseContext>(
  options: ServiceOptions<TContext>,
): Promise<RunningService> {
  const app = express();
  app.disable('x-powered-by');
  // Express hashes every response body for an ETag (SHA-1, ~1% of the gateway's CPU under load). No
  // caller revalidates a GraphQL answer, a health check or the metrics; the explorer's files carry
  // their own ETags.
  app.set('etag', false);
  app.set('trust proxy', options.trustProxy ?? 'loopback');
  const httpServer = http.createServer(app);
  // Keep idle connections open longer than callers keep them (the gateway's pool, load balancers):
  // if the server closed first, a caller could reuse a socket at the moment it closes and see a reset.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;

  const apollo = new ApolloServer<TContext>({
    ...options.apollo,
    introspection: options.introspection ?? true,
    persistedQueries: options.persistedQueries ?? false,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: options.hideSchemaDetails ?? false,
    // runMain owns SIGTERM/SIGINT (drain, then pools, then exit); Apollo's own handler would stop
    // the server a second time outside that order, and outside test mode the two deadlocked.
    stopOnTerminationSignals: false,
    validationRules: options.validationRules ?? [],
    parseOptions: options.parseOptions,
    formatError: createErrorFormatter(options.logger, { requestIds: options.requestIdsInErrors }),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: drainMillis(options.shutdownTimeoutMs) }),
      observabilityPlugin<TContext>(options.logger, options.metrics, options.knownOperations),
      tracingPlugin<TContext>(),
      ...(options.plugins ?? []),
    ],
  } as ApolloServerOptions<TContext>);
  await apollo.start();
  const shutdown = trackShutdown(app);

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: options.name });
  });
  app.get('/ready', async (_req, res) => {
    if (shutdown.draining) return void res.status(503).json({ status: 'not ready', reason: 'shutting down' });
    const result = await checkAll(options.readiness);
    res.status(result.ok ? 200 : 503).json({ status: result.ok ? 'ready' : 'not ready', ...result });
  });
  if (options.metricsPort === undefined) {
    app.get('/metrics', async (_req, res) => {
      res.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
    });
  }
  const metricsServer =
    options.metricsPort === undefined
      ? null
      : await startMetricsServer(options.metrics.registry, options.host, options.metricsPort, options.logger);
  app.use((_req, _res, next) => requestScope.run({ statements: 0 }, next));
  if (options.graphqlEdge?.length) app.use('/graphql', ...options.graphqlEdge);
  options.routes?.(app);
  app.use(
    '/graphql',
    assignRequestId,
    express.json({ limit: '1mb' }),
    requestScopeMiddleware,
    expressMiddleware(apollo, { context: ({ req }) => options.context(req) }),
  );
  // Malformed JSON bodies and oversized payloads: answer in GraphQL's error shape, never a stack trace.
  app.use(
    (
      error: Error & { status?: number; type?: string },
      _req: Request,
      res: express.Response,
      _next: express.NextFunction,
    ) => {
      const status = error.status && error.status < 500 ? error.status : 500;
      const requestId = res.locals.requestId as string | undefined;
      if (status === 500) options.logger.error({ err: error, requestId }, 'http error');
      res.status(status).json({
        errors: [
          {
            message:
              status === 413
                ? 'Request body too large'
                : status === 500
                  ? 'Internal server error'
                  : 'Malformed request body',
            extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST', requestId },
          },
        ],
      });
    },
  );

  const trusted = app.get('trust proxy fn') as (address: string, hop: number) => boolean;
  options.attach?.({ apollo, httpServer, clientAddress: (req) => proxyAddress(req, trusted) });
  httpServer.listen(options.port, options.host);
  await once(httpServer, 'listening');
  const { port } = httpServer.address() as AddressInfo;
  const url = `http://${options.host}:${port}/graphql`;
  options.logger.info({ url }, `${options.name} listening`);
  return {
    url,
    port,
    stop: async () => {
      shutdown.begin();
      await apollo.stop();
      await metricsServer?.stop();
    },
  };
}
