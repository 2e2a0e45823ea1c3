import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import type { Identity } from '@stockgraph/auth';
import { createLogger, type Logger } from '@stockgraph/logger';
import { createMetrics, startService, withStatus, type RunningService } from '@stockgraph/server';
import { createAuthenticator } from './authentication.js';
import { authorizationPlugin } from './authorization.plugin.js';
import { sessionCheckUrl, subgraphUrls, type GatewayEnv } from './env.js';
import { supergraphFromFile } from './supergraph.js';

export interface GatewayContext {
  identity: Identity | null;
  /** The verified bearer token, forwarded so every subgraph checks it again (zero trust). */
  token: string | null;
  clientAddress: string;
}

/** Forwards the caller's credentials and address to the subgraphs. */
class AuthenticatedDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['willSendRequest']>>[0]) {
    if (context.token) request.http?.headers.set('authorization', `Bearer ${context.token}`);
    if (context.clientAddress) request.http?.headers.set('x-forwarded-for', context.clientAddress);
  }
}

export interface GatewayRuntime {
  env: Readonly<GatewayEnv>;
  logger?: Logger;
}

async function answers(url: string): Promise<void> {
  const response = await fetch(new URL('/ready', url), { signal: AbortSignal.timeout(1500) });
  if (!response.ok) throw new Error(`${new URL(url).host} answered ${response.status}`);
}

export async function startGateway(runtime: GatewayRuntime): Promise<RunningService> {
  const { env } = runtime;
  const logger = runtime.logger ?? createLogger('gateway', env.LOG_LEVEL);
  const urls = subgraphUrls(env);
  const gateway = new ApolloGateway({
    supergraphSdl: supergraphFromFile(env.SUPERGRAPH_PATH, env.SUPERGRAPH_WATCH ?? env.NODE_ENV === 'development', logger),
    // The supergraph names each subgraph; where it runs is this deployment's business.
    buildService: ({ name, url }) => new AuthenticatedDataSource({ url: urls[name] ?? url }),
    logger,
  });
  const authenticate = createAuthenticator({
    jwksUrl: env.JWKS_URL,
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    sessionCheckUrl: sessionCheckUrl(env),
    sessionCacheMs: env.SESSION_CACHE_MS,
    logger,
  });
  return startService<GatewayContext>({
    name: 'gateway',
    host: env.HOST,
    port: env.PORT,
    logger,
    metrics: createMetrics('gateway'),
    apollo: { gateway },
    context: async (req) => {
      const session = await withStatus(401, () => authenticate(req.headers.authorization));
      return { identity: session?.identity ?? null, token: session?.token ?? null, clientAddress: req.ip ?? req.socket.remoteAddress ?? '' };
    },
    plugins: [authorizationPlugin<GatewayContext>()],
    readiness: Object.fromEntries(Object.entries(urls).map(([name, url]) => [name, () => answers(url)])),
    introspection: env.NODE_ENV !== 'production',
  });
}
