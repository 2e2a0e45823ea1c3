import { fileURLToPath } from 'node:url';
import { subgraphCallEnvShape } from './subgraph-call-env.js';
import {
  baseEnvShape,
  booleanFromEnv,
  ConfigError,
  parseEnv,
  redisUrl,
  tokenEnvShape,
  trustEnvShape,
  trustProblems,
  z,
} from '@stockgraph/config';
import { edgeEnvShape } from './edge-env.js';
import { httpEdgeEnvShape } from './http-edge.js';
import { defaultPort, SUBGRAPHS, urlVariable } from '@stockgraph/registry';
import { usageEnvShape } from '@stockgraph/usage';
import { subscriptionEnvShape } from './subscriptions/env.js';
import { responseCacheEnvShape } from './response-cache/env.js';

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');

type UrlVariable = `${(typeof SUBGRAPHS)[number]['envPrefix']}_URL`;

/** Where this deployment reaches each subgraph of the registry: USERS_URL, INVENTORY_URL, … */
const subgraphUrlShape = Object.fromEntries(
  SUBGRAPHS.map((entry) => [urlVariable(entry), httpUrl.default(`http://127.0.0.1:${defaultPort(entry)}/graphql`)]),
) as Record<UrlVariable, z.ZodDefault<typeof httpUrl>>;

const shape = {
  ...baseEnvShape,
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** Default: the committed file, wherever the process is started from (pnpm --filter runs in gateway/). */
  SUPERGRAPH_PATH: z
    .string()
    .min(1)
    .default(fileURLToPath(new URL('../../schema/supergraph.graphql', import.meta.url))),
  /** Reload the supergraph when the file changes; on by default in development. */
  SUPERGRAPH_WATCH: booleanFromEnv.optional(),
  ...subgraphUrlShape,
  ...tokenEnvShape,
  ...trustEnvShape,
  /** How long the answer "this session is live" is trusted before the users service is asked again. */
  /** Deepest selection an operation may have. */
  MAX_QUERY_DEPTH: z.coerce.number().int().min(3).max(50).default(12),
  /** Upper bound of an operation's estimated cost (graphql-armor: objects 2, scalars 1, ×1.5 per level). */
  MAX_QUERY_COST: z.coerce.number().int().min(100).max(1_000_000).default(20_000),
  SESSION_CACHE_MS: z.coerce.number().int().min(0).max(300_000).default(5000),
  /** The saga's Redis; also the cache Redis (APQ, rate limits) unless CACHE_REDIS_URL is set. Unset: memory. */
  REDIS_URL: redisUrl.optional(),
  /** Prepended to every Redis key, so deployments (and test runs) can share one Redis. */
  REDIS_KEY_PREFIX: z.string().min(1).max(100).default('stockgraph:'),
  /**
   * Read-your-writes for subgraphs with read replicas (their DATABASE_REPLICA_URLS): each signed-in
   * request reads the caller's last writes from the cache Redis, one round trip a request. Off by
   * default, since without replicas there is nothing to steer; turn it on wherever a subgraph has one.
   */
  READ_YOUR_WRITES: booleanFromEnv.default(false),
  /**
   * How long a caller's last write steers its reads to database replicas that have replayed it (or to
   * the primary). Keep it above every subgraph's DATABASE_REPLICA_MAX_LAG_MS: a replica lagging more
   * than that is out of rotation anyway.
   */
  READ_YOUR_WRITES_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /** The codegen manifest of trusted operations (hash → document). */
  PERSISTED_OPERATIONS_PATH: z
    .string()
    .min(1)
    .default(fileURLToPath(new URL('../../schema/generated/persisted-documents.json', import.meta.url))),
  /** Run only operations from the manifest: the production setting for mobile builds. */
  TRUSTED_DOCUMENTS_ONLY: booleanFromEnv.default(false),
  /** Serve the schema explorer at / ; on by default except in production. */
  EXPLORER_ENABLED: booleanFromEnv.optional(),
  ...subscriptionEnvShape,
  ...responseCacheEnvShape,
  ...subgraphCallEnvShape,
  ...edgeEnvShape,
  ...httpEdgeEnvShape,
  ...usageEnvShape,
};

export type GatewayEnv = z.infer<z.ZodObject<typeof shape>>;

export function parseGatewayEnv(source: NodeJS.ProcessEnv = process.env): Readonly<GatewayEnv> {
  const env = parseEnv('gateway', shape, source);
  if (env.NODE_ENV === 'production' && env.SUPERGRAPH_WATCH) {
    throw new ConfigError('gateway', [
      'SUPERGRAPH_WATCH: a production gateway serves the supergraph it was deployed with',
    ]);
  }
  if (trustProblems(env).length > 0) throw new ConfigError('gateway', trustProblems(env));
  if (env.TRUSTED_DOCUMENTS_ONLY && env.EXPLORER_ENABLED) {
    throw new ConfigError('gateway', [
      'EXPLORER_ENABLED: the explorer sends ad-hoc operations, which TRUSTED_DOCUMENTS_ONLY refuses',
    ]);
  }
  return env;
}

/** The explorer is for developers: on unless in production or locked to trusted documents, or when asked for. */
export function explorerEnabled(env: GatewayEnv): boolean {
  return env.EXPLORER_ENABLED ?? (env.NODE_ENV !== 'production' && !env.TRUSTED_DOCUMENTS_ONLY);
}

/** The users service's token introspection endpoint, beside its GraphQL endpoint. */
export function sessionCheckUrl(env: GatewayEnv): string {
  return new URL('/session', env.USERS_URL).toString();
}

/** Subgraph name in the supergraph → the URL this deployment reaches it at. */
export function subgraphUrls(env: GatewayEnv): Record<string, string> {
  return Object.fromEntries(SUBGRAPHS.map((entry) => [entry.name, env[`${entry.envPrefix}_URL`]]));
}
