import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { createLogger, type Logger } from '@stockgraph/logger';
import { createMetrics, startService, type RunningService } from '@stockgraph/server';
import { subgraphUrls, type GatewayEnv } from './env.js';
import { supergraphFromFile } from './supergraph.js';

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
    buildService: ({ name, url }) => new RemoteGraphQLDataSource({ url: urls[name] ?? url }),
    logger,
  });
  return startService({
    name: 'gateway',
    host: env.HOST,
    port: env.PORT,
    logger,
    metrics: createMetrics('gateway'),
    apollo: { gateway },
    context: async () => ({}),
    readiness: Object.fromEntries(Object.entries(urls).map(([name, url]) => [name, () => answers(url)])),
    introspection: env.NODE_ENV !== 'production',
  });
}
