import { z } from 'zod';

export { z };

/** Raised when the environment does not satisfy a process's schema; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`${service}: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Environment variables are strings; treat "true"/"1"/"yes" as true and refuse anything ambiguous. */
export const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');

/**
 * OpenTelemetry's standard variables, the subset Stockgraph honours. Tracing is off unless an OTLP
 * endpoint is set (and OTEL_SDK_DISABLED is not true); only the HTTP protocols ship (no gRPC client).
 */
export const telemetryEnvShape = {
  OTEL_SDK_DISABLED: booleanFromEnv.optional(),
  /** Collector base URL; traces go to <endpoint>/v1/traces. */
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
  /** The full traces URL, used as is (overrides the endpoint above for traces). */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json']).default('http/protobuf'),
  OTEL_TRACES_SAMPLER: z
    .enum([
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ])
    .default('parentbased_always_on'),
  /** The ratio of the *traceidratio samplers, 0..1. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
  /** Default: the process's own name (gateway, users, inventory, orders, customers). */
  OTEL_SERVICE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, . _ - only')
    .optional(),
};

/** Settings every Stockgraph process shares; each process extends this with its own. */
export const baseEnvShape = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535),
  /**
   * Which peers may tell the client's address in X-Forwarded-For (Express "trust proxy"): a hop count,
   * or addresses/subnets and the names loopback, linklocal, uniquelocal. Anyone else's header is ignored,
   * so sign-in throttling per address cannot be dodged with a made-up header.
   */
  TRUST_PROXY: z
    .string()
    .regex(
      /^(\d{1,2}|[0-9a-fA-F:./,\s]+|loopback|linklocal|uniquelocal)(\s*,\s*([0-9a-fA-F:./]+|loopback|linklocal|uniquelocal))*$/,
      'a hop count, or addresses/subnets and loopback, linklocal, uniquelocal',
    )
    .default('loopback')
    .transform((value) => (/^\d+$/.test(value) ? Number(value) : value)),
  /** On SIGTERM: how long in-flight requests and the event being applied may take before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(20_000),
  /** pretty: pino-pretty's coloured lines (default in development); json: one JSON object a line (elsewhere). */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  ...telemetryEnvShape,
};

export const postgresUrl = z
  .string()
  .url()
  .refine((u) => /^postgres(ql)?:\/\//.test(u), 'must be a postgres:// or postgresql:// URL');

export const redisUrl = z
  .string()
  .url()
  .refine((u) => /^rediss?:\/\//.test(u), 'must be a redis:// or rediss:// URL');

/**
 * Parses `source` against `shape`, collecting every problem at once so an operator fixes the
 * environment in one go instead of one restart per variable. Empty strings count as unset.
 */
export function parseEnv<Shape extends z.ZodRawShape>(
  service: string,
  shape: Shape,
  source: NodeJS.ProcessEnv = process.env,
): Readonly<z.infer<z.ZodObject<Shape>>> {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  // Without zod's JIT: it compiles a parser for each new object schema, which pays off on hot paths, not
  // for one parse per process (it took ~100 ms of `pnpm start`, which parses about ten service environments).
  const result = z.object(shape).safeParse(cleaned, { jitless: true });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(root)';
      const given = cleaned[name as string];
      return given === undefined ? `${name}: ${issue.message}` : `${name}=${JSON.stringify(given)}: ${issue.message}`;
    });
    throw new ConfigError(service, problems);
  }
  return Object.freeze(result.data);
}

/** For process entry points: print the configuration problem in one message and exit 1, no stack trace. */
export function exitOnConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

/** Where access tokens are verified: every subgraph and the gateway check them themselves (zero trust). */
export const tokenEnvShape = {
  JWKS_URL: z.string().url().default('http://127.0.0.1:4001/.well-known/jwks.json'),
  JWT_ISSUER: z.string().min(1).default('stockgraph-users'),
  JWT_AUDIENCE: z.string().min(1).default('stockgraph'),
};

/**
 * How the gateway and the subgraphs trust each other and what they expose: the credential the gateway
 * sends on every subgraph request, the revocation list every process consults, and /metrics apart.
 */
export const trustEnvShape = {
  /** Sent by the gateway on every subgraph request; a subgraph with it set refuses any request without it. */
  SUBGRAPH_SHARED_SECRET: z.string().min(32, 'at least 32 characters (e.g. openssl rand -base64 32)').optional(),
  /** Serve /metrics on this port only (not on the service port), for a scrape-only network path. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Redis key of the revoked sessions (a sorted set written by the users service, read by every process). */
  SESSION_REVOCATION_KEY: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,100}$/, 'letters, digits, : _ - only')
    .default('stockgraph:revoked-sessions'),
  /** How often each process re-reads that list: revocation takes effect within this time (plus a Redis round trip). */
  REVOCATION_REFRESH_MS: z.coerce.number().int().min(100).max(60_000).default(1000),
  /** How long a fetched JWKS is used before it is fetched again (the last good one is kept while that fails). */
  JWKS_CACHE_MS: z.coerce.number().int().min(100).max(86_400_000).default(600_000),
};

/** Production requires the gateway-to-subgraph credential: without it a subgraph answers anyone who reaches it. */
export function trustProblems(env: { NODE_ENV: string; SUBGRAPH_SHARED_SECRET?: string }): string[] {
  if (env.NODE_ENV !== 'production' || env.SUBGRAPH_SHARED_SECRET) return [];
  return [
    'SUBGRAPH_SHARED_SECRET: required in production (at least 32 characters; the same value for the gateway and every subgraph)',
  ];
}

/** What every subgraph process reads from its environment. */
/**
 * Inventory's catalogue cache in Redis (REDIS_URL): how long a cached product, SKU lookup or list page
 * may live when no event dropped it earlier; 0 turns the cache off. Without REDIS_URL it is off.
 */
export const catalogueCacheEnvShape = {
  CATALOGUE_CACHE_TTL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
};

export function subgraphEnvShape(defaultPort: number) {
  return {
    ...baseEnvShape,
    PORT: z.coerce.number().int().min(0).max(65535).default(defaultPort),
    DATABASE_URL: postgresUrl.optional(),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    /**
     * Statements as named prepared statements: one round trip each, and a plan PostgreSQL may keep.
     * Off only behind a pooler that cannot carry them (PgBouncer before 1.21 in transaction mode).
     */
    DATABASE_PREPARED_STATEMENTS: booleanFromEnv.default(true),
    /**
     * Streaming replicas of DATABASE_URL, comma-separated: read-only operations go to them, writes and
     * transactions to DATABASE_URL. Each gets a pool of DATABASE_POOL_MAX.
     */
    DATABASE_REPLICA_URLS: z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((url) => url.trim())
          .filter(Boolean),
      )
      .pipe(z.array(postgresUrl).max(16)),
    /** A replica further behind than this is out of rotation until it catches up (keep it below the gateway's READ_YOUR_WRITES_TTL_SECONDS). */
    DATABASE_REPLICA_MAX_LAG_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
    /** How often each replica's health and replay position are checked. */
    DATABASE_REPLICA_CHECK_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
    PGLITE_DIR: z.string().min(1).optional(),
    SEED_DEMO_DATA: booleanFromEnv.optional(),
    ...tokenEnvShape,
    ...trustEnvShape,
    /** Redis for the event bus; unset: the in-process bus, which only links services in one process. */
    REDIS_URL: redisUrl.optional(),
    /** Key prefix of the event streams, so several deployments (or test runs) can share one Redis. */
    EVENTS_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, : _ - only')
      .default('stockgraph:'),
    /** A delivery pending this long belongs to a dead consumer and is taken over. */
    EVENTS_CLAIM_IDLE_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  };
}

export type SubgraphEnv = z.infer<z.ZodObject<ReturnType<typeof subgraphEnvShape>>>;

/** Production refuses the conveniences that make development easy and a real deployment unsafe. */
export function productionProblems(env: SubgraphEnv): string[] {
  if (env.NODE_ENV !== 'production') return [];
  const problems: string[] = [];
  if (!env.DATABASE_URL) problems.push('DATABASE_URL: required in production (the embedded PGlite is for development)');
  if (env.SEED_DEMO_DATA) problems.push('SEED_DEMO_DATA: demo data and demo passwords are never seeded in production');
  if (!env.REDIS_URL)
    problems.push('REDIS_URL: required in production (the in-process event bus cannot reach other services)');
  problems.push(...trustProblems(env));
  return problems;
}

/** Replicas are replicas of a server: without DATABASE_URL (the embedded PGlite) there is none to follow. */
export function replicaProblems(env: SubgraphEnv): string[] {
  if (env.DATABASE_URL || env.DATABASE_REPLICA_URLS.length === 0) return [];
  return ['DATABASE_REPLICA_URLS: needs DATABASE_URL (the primary they replicate); PGlite has no replicas'];
}

export function parseSubgraphEnv<Extra extends z.ZodRawShape = Record<never, never>>(
  service: string,
  defaultPort: number,
  source: NodeJS.ProcessEnv = process.env,
  extra: Extra = {} as Extra,
  extraProblems: (env: SubgraphEnv & z.infer<z.ZodObject<Extra>>) => string[] = () => [],
): Readonly<SubgraphEnv & z.infer<z.ZodObject<Extra>>> {
  const env = parseEnv(service, { ...subgraphEnvShape(defaultPort), ...extra }, source) as SubgraphEnv &
    z.infer<z.ZodObject<Extra>>;
  const problems = [...productionProblems(env), ...replicaProblems(env), ...extraProblems(env)];
  if (problems.length > 0) throw new ConfigError(service, problems);
  return env;
}

/**
 * How many whole months of orders (with their items) stay in the live tables; `stockgraph partitions
 * archive` detaches older months into `orders_archive`. Unset: keep all.
 */
export const retentionEnvShape = {
  PARTITION_RETENTION_MONTHS: z.coerce.number().int().min(1, 'at least 1 (a whole month)').max(1200).optional(),
};

/** A connection URL fit for a message or a report: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}
