import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloGateway, LocalGraphQLDataSource } from '@apollo/gateway';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { createRedisBus, type EventBus } from '@stockgraph/events';
import { GraphQLError } from 'graphql';
import { createLogger, type Logger } from '@stockgraph/logger';
import { createUsageRecorder } from '@stockgraph/usage';
import {
  createMetrics,
  inputGuardPlugin,
  noteRequestClient,
  noteRequestUser,
  redisRevocations,
  startService,
  withStatus,
  type RunningService,
} from '@stockgraph/server';
import { createAuthenticator } from './authentication.js';
import { clientIdentifier, clientMetricsPlugin } from './client-awareness.js';
import { httpEdge } from './http-edge.js';
import { authorizationPlugin } from './authorization.plugin.js';
import { explorerEnabled, sessionCheckUrl, subgraphUrls, type GatewayEnv } from './env.js';
import { explorerRoutes } from './explorer.js';
import { explorerSchemaJson } from './explorer-docs.js';
import { outagePlugin } from './outage.plugin.js';
import { WriteMarks } from './read-your-writes.js';
import { checkScalarsOf } from './scalars.js';
import { subgraphCallSettings } from './subgraph-call-env.js';
import { createSubgraphCallMetrics, SubgraphDataSource } from './subgraph-data-source.js';
import { startEdge } from './edge.js';
import { estimatedCost } from './rate-limit.plugin.js';
import { createSubscriptions } from './subscriptions/engine.js';
import { createStreamFollower } from './subscriptions/events.js';
import { startResponseCache } from './response-cache/index.js';
import { registerSubscriptionMetrics } from './subscriptions/metrics.js';
import { KEEPS_NOTHING } from './apq-store.js';
import { sseRoute } from './subscriptions/sse.js';
import { attachWebSocket } from './subscriptions/ws.js';
import { supergraphFromFile } from './supergraph.js';
import { OFFLINE_SUBGRAPH, offlineBatches } from './offline/batch.js';
import { memoryLedger, redisLedger } from './offline/ledger.js';
import type { GatewayContext } from './context.js';

export type { GatewayContext } from './context.js';

export interface GatewayRuntime {
  env: Readonly<GatewayEnv>;
  logger?: Logger;
  /** The services' event bus when they share this process (pnpm start); otherwise REDIS_URL's streams. */
  bus?: EventBus;
}

async function answers(url: string): Promise<void> {
  const response = await fetch(new URL('/ready', url), { signal: AbortSignal.timeout(1500) });
  if (!response.ok) throw new Error(`${new URL(url).host} answered ${response.status}`);
}

export interface GatewayService extends RunningService {
  /** Where the schema explorer is served, when it is. */
  explorerUrl?: string;
}

export async function startGateway(runtime: GatewayRuntime): Promise<GatewayService> {
  const { env } = runtime;
  const logger = runtime.logger ?? createLogger('gateway', env.LOG_LEVEL);
  const urls = subgraphUrls(env);
  // @apollo/gateway otherwise sends usage metrics to Apollo and, to label them, probes the AWS, GCP,
  // Azure and Alibaba metadata addresses at start. A self-hosted gateway does not phone home; an
  // operator who wants Apollo's telemetry sets APOLLO_TELEMETRY_DISABLED=false explicitly.
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';
  const metrics = createMetrics('gateway');
  const callMetrics = createSubgraphCallMetrics(metrics.registry);
  // Which schema coordinates each client version uses, for schema:check --usage (off without USAGE_DATABASE_URL).
  const usage = createUsageRecorder<GatewayContext>({
    env,
    logger,
    registry: metrics.registry,
    clientOf: ({ contextValue }) => contextValue.client,
    // A subscription event's query is the gateway's own, not the client's: the subscription is recorded.
    ignore: ({ contextValue }) => contextValue.derived === true,
  });
  const callSettings = subgraphCallSettings(env);
  const edge = await startEdge<GatewayContext>(env, logger, metrics);
  const writeMarks = env.READ_YOUR_WRITES
    ? new WriteMarks(edge.redis, env.REDIS_KEY_PREFIX, env.READ_YOUR_WRITES_TTL_SECONDS * 1000, logger)
    : undefined;
  const offline = offlineBatches(
    edge.redis ? redisLedger(edge.redis, env.REDIS_KEY_PREFIX, logger) : memoryLedger(),
    logger,
  );
  const gateway = new ApolloGateway({
    supergraphSdl: supergraphFromFile(
      env.SUPERGRAPH_PATH,
      env.SUPERGRAPH_WATCH ?? env.NODE_ENV === 'development',
      logger,
    ),
    // The supergraph names each subgraph; where it runs is this deployment's business.
    buildService: ({ name, url }) =>
      name === OFFLINE_SUBGRAPH
        ? new LocalGraphQLDataSource(offline.schema)
        : new SubgraphDataSource(
            name,
            urls[name] ?? url ?? '',
            callSettings,
            callMetrics,
            logger,
            env.SUBGRAPH_SHARED_SECRET,
            writeMarks,
          ),
    logger,
    // Its spans (plan, fetch, postprocessing) record every error; the document stays out of them,
    // since literals in it may be personal data.
    telemetry: { includeDocument: false, recordExceptions: true },
  });
  checkScalarsOf(gateway);
  // With Redis the revocation list answers "is this session live" without a call to the users service;
  // without it (pnpm start, development) the users service is asked, cached for SESSION_CACHE_MS.
  const revocations = env.REDIS_URL ? await redisRevocations(env, env.REDIS_URL, logger) : undefined;
  const authenticate = createAuthenticator({
    revocations,
    jwksCacheMs: env.JWKS_CACHE_MS,
    jwksUrl: env.JWKS_URL,
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    sessionCheckUrl: sessionCheckUrl(env),
    sessionCacheMs: env.SESSION_CACHE_MS,
    logger,
    onTokenCacheLookup: (hit) => metrics.cacheLookup('verified_token', hit),
  });
  // Not waited for: queries are served while Redis is away, and subscriptions read once it is back.
  const bus =
    runtime.bus ??
    (env.REDIS_URL
      ? await createRedisBus(env.REDIS_URL, env.EVENTS_PREFIX, logger, { waitForConnection: false })
      : null);
  // Operations too deep, too aliased, too long or too costly are refused before they are planned:
  // one request must not be able to fan out into millions of subgraph rows.
  const armor = new ApolloArmor({
    maxDepth: { n: env.MAX_QUERY_DEPTH },
    maxAliases: { n: 30 },
    maxDirectives: { n: 50 },
    // The token limit is graphql-js's own (parseOptions below): armor's throws from a plugin hook,
    // which Apollo answers with a 500 for any syntax error.
    maxTokens: { enabled: false },
    costLimit: { maxCost: env.MAX_QUERY_COST },
    blockFieldSuggestion: { enabled: env.NODE_ENV === 'production' },
  }).protect();
  // One reader per stream for the process: subscribers' events and the response cache's invalidations.
  const follower = bus ? createStreamFollower(bus, logger) : null;
  const responseCache = await startResponseCache<GatewayContext>({
    env,
    redis: edge.redis,
    follower,
    registry: metrics.registry,
    logger,
  });
  const subscriptions = createSubscriptions({
    bus,
    follower,
    authenticate,
    logger,
    perUser: env.SUBSCRIPTIONS_PER_USER,
    backlogMax: env.SUBSCRIPTION_BACKLOG_MAX,
    // Half the session cache: a revoked session's subscriptions end within SESSION_CACHE_MS.
    recheckMs: Math.max(250, Math.floor(env.SESSION_CACHE_MS / 2)),
    hideSuggestions: env.NODE_ENV === 'production',
    onStarted: (started) => usage.record(started),
    edge: {
      trustedOnly: edge.trustedOnly,
      manifestDocument: edge.manifestDocument,
      validationRules: armor.validationRules,
      cost: estimatedCost,
      charge: (context, points) => edge.chargeCost(context as GatewayContext, points),
    },
  });
  let webSockets: ReturnType<typeof attachWebSocket> | null = null;
  registerSubscriptionMetrics(metrics.registry, subscriptions.activeCount, () => webSockets?.connections() ?? 0);
  const identifyClient = clientIdentifier(env.KNOWN_CLIENTS);
  const explorer = explorerEnabled(env);
  // Listening before the gateway loads its first schema.
  const explorerSchema = explorer ? explorerSchemaJson(gateway) : null;
  const service = await startService<GatewayContext>({
    name: 'gateway',
    host: env.HOST,
    port: env.PORT,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    trustProxy: env.TRUST_PROXY,
    requestIdsInErrors: true,
    logger,
    metrics,
    metricsPort: env.METRICS_PORT,
    apollo: { gateway },
    // The persisted-operations plugin is the only APQ store: Apollo's own would keep anonymous registrations.
    persistedQueries: { cache: KEEPS_NOTHING },
    // A bad token is held, not thrown, here: the authorization plugin refuses it for any operation
    // that needs a signed-in user, while login and refreshSession still work for a client whose HTTP
    // layer keeps sending its expired token.
    context: async (req) => {
      const clientAddress = req.ip ?? req.socket.remoteAddress ?? '';
      const client = identifyClient(req.headers);
      noteRequestClient(client.name, client.version);
      try {
        const session = await withStatus(401, () => authenticate(req.headers.authorization));
        noteRequestUser(session?.identity.userId);
        const identity = session?.identity ?? null;
        return { identity, token: session?.token ?? null, tokenError: null, clientAddress, client };
      } catch (error) {
        if (!(error instanceof GraphQLError) || error.extensions.code !== 'UNAUTHENTICATED') throw error;
        return { identity: null, token: null, tokenError: error, clientAddress, client };
      }
    },
    // The edge first (rate limits, persisted operations, client-error statuses): a refused untrusted
    // operation is not worth authorizing. Apollo's own landing page loads from a CDN, so it is off; the
    // explorer below replaces it.
    knownOperations: edge.knownOperations,
    plugins: [
      ...edge.plugins,
      ApolloServerPluginLandingPageDisabled(),
      ...(armor.plugins as ApolloServerPlugin<GatewayContext>[]),
      authorizationPlugin<GatewayContext>(metrics),
      clientMetricsPlugin<GatewayContext>(metrics.registry),
      usage.plugin,
      subscriptions.plugin,
      inputGuardPlugin<GatewayContext>(),
      outagePlugin<GatewayContext>(Math.ceil(env.SUBGRAPH_BREAKER_RESET_MS / 1000)),
      // Last: it answers only what every check above let through.
      responseCache.plugin,
    ],
    validationRules: armor.validationRules,
    parseOptions: { maxTokens: 4000 },
    graphqlEdge: httpEdge(env),
    routes: (app) => {
      // GraphQL over SSE shares /graphql: requests that accept text/event-stream are taken here first.
      sseRoute(subscriptions, identifyClient)(app);
      if (explorerSchema) explorerRoutes({ demoUsers: env.NODE_ENV !== 'production', schemaJson: explorerSchema })(app);
    },
    attach: ({ apollo, httpServer, clientAddress }) => {
      subscriptions.bind(apollo);
      // Each operation of a batch as its own mutation: the gateway's planner, authorization and limits
      // (derived: the edge's plugins are skipped, its cost budget is charged here instead).
      offline.bind({
        execute: async (query, variables, context) => {
          const response = await apollo.executeOperation(
            { query, variables },
            { contextValue: { ...context, derived: true } },
          );
          if (response.body.kind !== 'single') throw new Error('incremental delivery is not used by mutations');
          return response.body.singleResult;
        },
        charge: async (context, document) => {
          const schema = subscriptions.schema();
          if (schema) await edge.chargeCost(context, Math.max(1, estimatedCost(schema, document)));
        },
      });
      webSockets = attachWebSocket(httpServer, subscriptions, {
        perConnection: env.SUBSCRIPTIONS_PER_CONNECTION,
        perUser: env.WEBSOCKETS_PER_USER,
        authenticate,
        clientAddress,
        identifyClient,
        heartbeatMs: env.SUBSCRIPTION_HEARTBEAT_MS,
        schema: subscriptions.schema,
      });
    },
    readiness: Object.fromEntries(Object.entries(urls).map(([name, url]) => [name, () => answers(url)])),
    // The explorer's docs are introspection: a production gateway that serves it allows that too.
    introspection: env.NODE_ENV !== 'production' || explorer,
  });
  return {
    ...service,
    explorerUrl: explorer ? new URL('/', service.url).toString() : undefined,
    stop: async () => {
      // Subscribers first: each gets SHUTTING_DOWN as its last result (resubscribe elsewhere with the
      // last stream id), then WebSockets close as going away (1001, which clients retry).
      await subscriptions.close();
      await webSockets?.close();
      if (!runtime.bus) await bus?.close();
      await service.stop();
      await usage.stop();
      await responseCache.close();
      await edge.close();
      await revocations?.close();
    },
  };
}
