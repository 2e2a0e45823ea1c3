import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Logger } from '@stockgraph/logger';
import type { ServiceMetrics } from '@stockgraph/server';
import { clientErrorsPlugin } from './client-errors.plugin.js';
import type { GatewayEnv } from './env.js';
import { persistedOperationsFromEnv } from './persisted-operations.js';
import { rateLimits } from './rate-limit.plugin.js';
import { closeRedis, connectRedis, type RedisClient } from './redis.js';

/** What the edge needs to know of a request's context. */
export interface EdgeContext extends BaseContext {
  identity: { userId: string } | null;
  clientAddress: string;
  /** A query the gateway runs itself for a subscription's event: the subscription was metered and trusted. */
  derived?: boolean;
}

/** The plugin, except for the queries the gateway derives from a subscription it already let through. */
function exceptDerived<TContext extends EdgeContext>(
  plugin: ApolloServerPlugin<TContext>,
): ApolloServerPlugin<TContext> {
  return {
    ...plugin,
    requestDidStart: async (requestContext) =>
      requestContext.contextValue.derived ? undefined : plugin.requestDidStart?.(requestContext),
  };
}

export interface Edge<TContext extends EdgeContext> {
  /** In this order, before the gateway's limits and authorization. */
  plugins: ApolloServerPlugin<TContext>[];
  /** The manifest's operation names, the only names given their own metric series. */
  knownOperations: ReadonlySet<string>;
  /** The cache Redis, for the gateway's other shared state that may be lost (callers' last writes). */
  redis: RedisClient | undefined;
  /** TRUSTED_DOCUMENTS_ONLY, and the manifest's document of an exact text. */
  trustedOnly: boolean;
  manifestDocument(query: string): string | undefined;
  /** Spends from the caller's cost budget outside an HTTP operation (subscriptions); a no-op with limits off. */
  chargeCost(context: TContext, points: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The gateway's edge: rate limits, persisted operations and client-error statuses, on the cache Redis
 * (CACHE_REDIS_URL, else REDIS_URL; this process's memory without either). That Redis holds only what
 * can be lost, so it can evict, apart from the saga's streams.
 */
export async function startEdge<TContext extends EdgeContext>(
  env: GatewayEnv,
  logger: Logger,
  metrics?: Pick<ServiceMetrics, 'cacheLookup'>,
): Promise<Edge<TContext>> {
  const url = env.CACHE_REDIS_URL ?? env.REDIS_URL;
  const redis = url ? await connectRedis(url, logger) : undefined;
  // Only a signed-in caller's registrations are stored, and only once every check has passed.
  const persisted = persistedOperationsFromEnv<TContext>(
    env,
    logger,
    redis,
    (context) => context.identity !== null,
    (hit) => metrics?.cacheLookup('persisted_operation', hit),
  );
  const rateLimit = rateLimits<TContext>({
    redis,
    keyPrefix: env.REDIS_KEY_PREFIX,
    windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS,
    points: env.RATE_LIMIT_POINTS,
    signIn: env.RATE_LIMIT_SIGN_IN,
    apqRegistrations: env.RATE_LIMIT_APQ_REGISTRATIONS,
    userId: (context) => context.identity?.userId,
    clientAddress: (context) => context.clientAddress,
    logger,
  });
  return {
    // The rate limiter first: it reads the request as the client sent it.
    plugins: [
      ...(env.RATE_LIMIT_ENABLED ? [rateLimit.plugin] : []),
      persisted.plugin,
      clientErrorsPlugin<TContext>(),
    ].map(exceptDerived),
    knownOperations: persisted.operationNames,
    redis,
    trustedOnly: env.TRUSTED_DOCUMENTS_ONLY,
    manifestDocument: persisted.manifestDocument,
    chargeCost: env.RATE_LIMIT_ENABLED ? rateLimit.chargeCost : async () => {},
    close: async () => {
      if (redis) await closeRedis(redis);
    },
  };
}
