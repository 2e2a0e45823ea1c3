import { baseEnvShape, booleanFromEnv, ConfigError, parseEnv, tokenEnvShape, z } from '@stockgraph/config';

const httpUrl = z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');

const shape = {
  ...baseEnvShape,
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  SUPERGRAPH_PATH: z.string().min(1).default('schema/supergraph.graphql'),
  /** Reload the supergraph when the file changes; on by default in development. */
  SUPERGRAPH_WATCH: booleanFromEnv.optional(),
  USERS_URL: httpUrl.default('http://127.0.0.1:4001/graphql'),
  INVENTORY_URL: httpUrl.default('http://127.0.0.1:4002/graphql'),
  ORDERS_URL: httpUrl.default('http://127.0.0.1:4003/graphql'),
  CUSTOMERS_URL: httpUrl.default('http://127.0.0.1:4004/graphql'),
  ...tokenEnvShape,
  /** How long the answer "this session is live" is trusted before the users service is asked again. */
  SESSION_CACHE_MS: z.coerce.number().int().min(0).max(300_000).default(5000),
};

export type GatewayEnv = z.infer<z.ZodObject<typeof shape>>;

export function parseGatewayEnv(source: NodeJS.ProcessEnv = process.env): Readonly<GatewayEnv> {
  const env = parseEnv('gateway', shape, source);
  if (env.NODE_ENV === 'production' && env.SUPERGRAPH_WATCH) {
    throw new ConfigError('gateway', ['SUPERGRAPH_WATCH: a production gateway serves the supergraph it was deployed with']);
  }
  return env;
}

/** The users service's token introspection endpoint, beside its GraphQL endpoint. */
export function sessionCheckUrl(env: GatewayEnv): string {
  return new URL('/session', env.USERS_URL).toString();
}

/** Subgraph name in the supergraph → the URL this deployment reaches it at. */
export function subgraphUrls(env: GatewayEnv): Record<string, string> {
  return { users: env.USERS_URL, inventory: env.INVENTORY_URL, orders: env.ORDERS_URL, customers: env.CUSTOMERS_URL };
}
