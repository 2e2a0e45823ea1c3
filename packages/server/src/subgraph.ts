import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import type { PGlite } from '@electric-sql/pglite';
import type { SubgraphEnv } from '@stockgraph/config';
import {
  maintainPartitions,
  openDatabase,
  transact,
  type Database,
  type DatabaseHandle,
  type PartitionedTable,
  type Transact,
  type Tx,
} from '@stockgraph/db';
import { createLogger, type Logger } from '@stockgraph/logger';
import {
  bearerToken,
  createTokenVerifier,
  remoteKeySet,
  shieldFromSchema,
  type AuthContext,
  type Identity,
  type Policy,
  type TokenVerifier,
} from '@stockgraph/auth';
import { type RevocationList } from '@stockgraph/auth';
import type { Express, Request } from 'express';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { applyMiddleware } from 'graphql-middleware';
import {
  createMemoryBus,
  createRedisBus,
  inConsumerSpan,
  startConsumer,
  startHousekeeping,
  startRelay,
  traceBus,
  type Envelope,
  type EventBus,
  type OutboxTable,
  type ProcessedEventsTable,
} from '@stockgraph/events';
import { GraphQLError, type DocumentNode } from 'graphql';
import { Counter, type Registry } from 'prom-client';
import { registerOutboxMetrics, registerPartitionMetrics, registerPendingMetrics } from './saga-metrics.js';
import { createMetrics, registerPoolMetrics, requestScope } from './metrics.js';
import { createReplicaMetrics, readRoutingPlugin } from './read-routing.plugin.js';
import { gatewayOnly } from './gateway-only.js';
import { inputGuardPlugin } from './input-guard.plugin.js';
import { revocationCheck } from './revocation-check.js';
import { startService, type RunningService } from './service.js';
import { unreachableDatabase } from './startup.js';
import { noteRequestUser } from './request-tracing.js';
import { resolverSpans } from './resolver-spans.js';
import { isTracing } from '@stockgraph/telemetry';

/** One stream a subgraph consumes: each event is applied inside the transaction that records it processed. */
export interface ConsumerDefinition<TSchema extends Record<string, unknown>> {
  stream: string;
  group: string;
  handle: (envelope: Envelope, tx: Tx<TSchema>, services: SubgraphServices<TSchema>) => Promise<void>;
  /** Whether `handle` acts on events of this type (a `consume()` handler's `applies`); default all. */
  applies?: (type: string) => boolean;
  /** Runs once the event's effect is committed. */
  afterCommit?: (envelope: Envelope) => void;
}

/**
 * What a subgraph's bootstrap hook hands back: the per-request context factory, closing over the
 * long-lived services the hook created once (so nothing lives in module-level state), the consumers
 * that need those services, and how to stop them.
 */
export interface Bootstrapped<TSchema extends Record<string, unknown>, TContext extends AuthContext> {
  context: (identity: Identity | null, req: Request) => TContext;
  consumers?: ConsumerDefinition<TSchema>[];
  stop?: () => void | Promise<void>;
}

export interface SubgraphDefinition<TSchema extends Record<string, unknown>, TContext extends AuthContext> {
  name: string;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<TContext>;
  dbSchema: TSchema;
  /** The Postgres schema the service owns; its migrations are recorded there too. */
  pgSchema: string;
  migrationsFolder: string;
  partitionedTables?: PartitionedTable[];
  /** Inserts the demo data when the service's tables are empty; must be a no-op otherwise. */
  seed?: (db: Database<TSchema>, logger: Logger) => Promise<void>;
  /**
   * Runs once the database is ready and the relay runs, before consumers and requests: creates the
   * service's long-lived parts and returns the context factory every request goes through.
   */
  bootstrap?: (
    db: Database<TSchema>,
    services: SubgraphServices<TSchema>,
  ) => Bootstrapped<TSchema, TContext> | Promise<Bootstrapped<TSchema, TContext>>;
  /** Data-dependent authorization policies named by `@policy` in the SDL (ownership rules). */
  policies?: Record<string, Policy<TContext>>;
  /** The service's side of the event bus: its outbox, and the streams it consumes. */
  events?: {
    /** The streams this service publishes to (their trimming is its job). */
    streams?: string[];
    /** Old idempotency keys to purge with the processed-event records. */
    idempotency?: { table: PgTable; createdAt: PgColumn };
    outbox?: OutboxTable;
    processed?: ProcessedEventsTable;
    consumers?: ConsumerDefinition<TSchema>[];
  };
}

/** What a request or an event handler may use beyond the database. */
export interface SubgraphServices<TSchema extends Record<string, unknown> = Record<string, never>> {
  /** Runs a write and its outbox rows in one transaction, then publishes them without waiting for the relay's tick. */
  transact: Transact<TSchema>;
  /** Publish outbox rows now instead of at the relay's next tick; call after committing them. */
  wakeRelay(): void;
  /** Hears committed NOTIFYs on `channel` from every replica (wakes that must cross processes). */
  listen: DatabaseHandle<TSchema>['listen'];
  logger: Logger;
  /** The service's /metrics registry, for figures only the service knows (the saga's). */
  registry: Registry;
  /** The event bus, for readers that follow a stream without consuming it (cache invalidation). */
  bus: EventBus;
}

export interface SubgraphRuntime {
  env: Readonly<SubgraphEnv>;
  /** The embedded launcher shares one PGlite between services. */
  pglite?: PGlite;
  logger?: Logger;
  /** How access tokens are checked; by default against the users service's JWKS (JWKS_URL). */
  verifier?: TokenVerifier;
  /** Extra HTTP routes (the users service's JWKS and session check). */
  routes?: (app: Express) => void;
  /** Ended sessions; by default the list in Redis (REDIS_URL), else this process's own. */
  revocations?: RevocationList;
  /** The embedded launcher shares one in-process bus; otherwise REDIS_URL or a private in-process bus. */
  bus?: EventBus;
}

export interface RunningSubgraph<TSchema extends Record<string, unknown>> extends RunningService {
  db: Database<TSchema>;
}

/** Runs `work`; a coded error it throws answers the whole request with this HTTP status. */
export async function withStatus<T>(status: number, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof GraphQLError) {
      // An error that chose its own status (503 for an outage) keeps it.
      throw new GraphQLError(error.message, { extensions: { http: { status }, ...error.extensions } });
    }
    throw error;
  }
}

/**
 * The service's side of the event bus: the relay publishing its outbox, the bootstrap hook's services,
 * the consumers of the streams it follows and the housekeeping of it all.
 */
async function startEvents<TSchema extends Record<string, unknown>, TContext extends AuthContext>(
  definition: SubgraphDefinition<TSchema, TContext>,
  db: Database<TSchema>,
  listen: DatabaseHandle<TSchema>['listen'],
  sharedBus: EventBus | undefined,
  env: Readonly<SubgraphEnv>,
  logger: Logger,
  metrics: ReturnType<typeof createMetrics>,
): Promise<{
  services: SubgraphServices<TSchema>;
  context: Bootstrapped<TSchema, TContext>['context'];
  stop(): Promise<void>;
}> {
  const events = definition.events;
  const bus = traceBus(
    sharedBus ?? (env.REDIS_URL ? await createRedisBus(env.REDIS_URL, env.EVENTS_PREFIX, logger) : createMemoryBus()),
  );
  if (!sharedBus && !env.REDIS_URL && events) logger.warn('no REDIS_URL: events reach only services in this process');
  const relay = events?.outbox ? startRelay({ db, outbox: events.outbox, bus, logger }) : null;
  const wakeRelay = () => relay?.wake();
  const services: SubgraphServices<TSchema> = {
    transact: (work) => transact(db, work, wakeRelay),
    wakeRelay,
    listen,
    logger,
    registry: metrics.registry,
    bus,
  };
  if (relay) registerOutboxMetrics(metrics.registry, relay);
  const parked = new Counter({
    name: 'stockgraph_events_parked_total',
    help: 'Events no retry could apply (unknown type, payload refused by its contract), parked on <stream>.dead-letter',
    labelNames: ['stream', 'group', 'kind'] as const,
    registers: [metrics.registry],
  });
  const booted = await bootstrap(definition, db, services);
  const processed = events?.processed;
  const definitions = [...(events?.consumers ?? []), ...(booted.consumers ?? [])];
  if (definitions.length > 0 && !processed)
    throw new Error(`${definition.name} consumes events without a processed-events table`);
  const consumers = processed
    ? definitions.map((c) =>
        startConsumer({
          db,
          bus,
          processed,
          stream: c.stream,
          group: c.group,
          logger,
          claimIdleMs: env.EVENTS_CLAIM_IDLE_MS,
          handle: (envelope, tx) => inConsumerSpan(c.stream, c.group, envelope, () => c.handle(envelope, tx, services)),
          applies: c.applies,
          afterCommit: (delivery) => {
            relay?.wake();
            c.afterCommit?.(delivery.envelope);
          },
          onParked: (event) => parked.inc({ stream: event.stream, group: event.group, kind: event.kind }),
        }),
      )
    : [];
  registerPendingMetrics(metrics.registry, bus, definitions);
  const housekeeping = events
    ? startHousekeeping({
        db,
        bus,
        outbox: events.outbox,
        processed: events.processed,
        streams: events.streams ?? [],
        idempotency: events.idempotency,
        logger,
      })
    : null;
  return {
    services,
    context: booted.context,
    stop: async () => {
      housekeeping?.stop();
      await Promise.all(consumers.map((c) => c.stop()));
      await booted.stop?.();
      await relay?.stop();
      if (!sharedBus) await bus.close();
    },
  };
}

/** The subgraph's bootstrap hook; a definition without one (migrate-only tools) cannot serve. */
async function bootstrap<TSchema extends Record<string, unknown>, TContext extends AuthContext>(
  definition: SubgraphDefinition<TSchema, TContext>,
  db: Database<TSchema>,
  services: SubgraphServices<TSchema>,
): Promise<Bootstrapped<TSchema, TContext>> {
  if (!definition.bootstrap)
    throw new Error(`${definition.name} has no bootstrap hook: it can be migrated, not served`);
  return definition.bootstrap(db, services);
}

/** Opens the database, migrates, keeps partitions ahead, seeds (development), and serves. */
export async function startSubgraph<TSchema extends Record<string, unknown>, TContext extends AuthContext>(
  definition: SubgraphDefinition<TSchema, TContext>,
  runtime: SubgraphRuntime & {
    /** Runs once the database is migrated and seeded, before the first request is served. */
    prepare?: (db: Database<NoInfer<TSchema>>, registry: Registry) => void | Promise<void>;
  },
): Promise<RunningSubgraph<TSchema>> {
  const { env } = runtime;
  const logger = runtime.logger ?? createLogger(definition.name, env.LOG_LEVEL);
  const metrics = createMetrics(definition.name, { database: true });
  const replicaMetrics = env.DATABASE_REPLICA_URLS.length > 0 ? createReplicaMetrics(metrics.registry) : undefined;
  const handle = await openDatabase({
    url: env.DATABASE_URL,
    pglite: runtime.pglite,
    pgliteDir: env.PGLITE_DIR ?? `.data/pglite-${definition.name}`,
    poolMax: env.DATABASE_POOL_MAX,
    preparedStatements: env.DATABASE_PREPARED_STATEMENTS,
    replicas: replicaMetrics && {
      urls: env.DATABASE_REPLICA_URLS,
      maxLagMs: env.DATABASE_REPLICA_MAX_LAG_MS,
      checkIntervalMs: env.DATABASE_REPLICA_CHECK_MS,
      route: () => requestScope.getStore()?.readReplica,
      onRetried: (index) => replicaMetrics.retries.inc({ replica: String(index) }),
    },
    schema: definition.dbSchema,
    logger,
    onQuery: () => {
      const request = requestScope.getStore();
      if (request) request.statements++;
      metrics.sqlStatements.inc({ source: request ? 'request' : 'background' });
    },
  });
  registerPoolMetrics(metrics.registry, handle.poolUsage);
  if (handle.replicas) replicaMetrics?.watch(handle.replicas);
  const cleanup: (() => Promise<void>)[] = [];
  try {
    await handle.ping().catch((error: unknown) => {
      throw unreachableDatabase(definition.name, env.DATABASE_URL, error);
    });
    await handle.migrate(definition.migrationsFolder, definition.pgSchema);
    const partitions = maintainPartitions(handle.db, definition.partitionedTables ?? [], logger);
    registerPartitionMetrics(metrics.registry, handle.db, definition.partitionedTables ?? []);
    cleanup.push(async () => partitions.stop());
    await partitions.ready;
    logger.info({ driver: handle.driver, schema: definition.pgSchema }, 'database migrated');
    if (definition.seed && (env.SEED_DEMO_DATA ?? env.NODE_ENV === 'development')) {
      await definition.seed(handle.db, logger);
    }
    await runtime.prepare?.(handle.db, metrics.registry);
    // Replicas enter the rotation once a first probe found them well; until then reads go to the primary.
    await handle.replicas?.probe();
    const events = await startEvents(definition, handle.db, handle.listen, runtime.bus, env, logger, metrics);
    cleanup.push(events.stop);
    // Resolver spans first, so a field's authorization policies (and their SQL) sit under its span.
    const schema = applyMiddleware(
      buildSubgraphSchema([{ typeDefs: definition.typeDefs, resolvers: definition.resolvers }]),
      ...(isTracing() ? [resolverSpans] : []),
      shieldFromSchema(definition.typeDefs, definition.policies ?? {}, (rule, decision) =>
        metrics.denials.inc({ rule, decision }),
      ),
    );
    const revocations = await revocationCheck(env, runtime.revocations, logger);
    cleanup.push(revocations.stop);
    const verify = revocations.wrap(
      runtime.verifier ??
        createTokenVerifier(remoteKeySet(env.JWKS_URL, env.JWKS_CACHE_MS), {
          issuer: env.JWT_ISSUER,
          audience: env.JWT_AUDIENCE,
          cache: { onLookup: (hit) => metrics.cacheLookup('verified_token', hit) },
        }),
    );
    const service = await startService<TContext>({
      name: definition.name,
      host: env.HOST,
      port: env.PORT,
      logger,
      metrics,
      apollo: { schema },
      // A missing token is an anonymous caller (the shield then denies nearly everything); a bad one is refused outright.
      context: async (req) => {
        const identity = await withStatus(401, async () => {
          const token = bearerToken(req.headers.authorization);
          return token ? verify(token) : null;
        });
        noteRequestUser(identity?.userId);
        return events.context(identity, req);
      },
      readiness: { database: () => handle.ping() },
      introspection: env.NODE_ENV !== 'production',
      hideSchemaDetails: env.NODE_ENV === 'production',
      metricsPort: env.METRICS_PORT,
      trustProxy: env.TRUST_PROXY,
      // Inline traces feed Apollo Studio, which we do not use.
      plugins: [
        ApolloServerPluginInlineTraceDisabled(),
        inputGuardPlugin<TContext>(),
        ...(handle.replicas && replicaMetrics
          ? [readRoutingPlugin<TContext>(handle.replicas, replicaMetrics, logger)]
          : []),
      ],
      routes: (app) => {
        // In production only the gateway may call /graphql (SUBGRAPH_SHARED_SECRET).
        if (env.SUBGRAPH_SHARED_SECRET) app.use('/graphql', gatewayOnly(env.SUBGRAPH_SHARED_SECRET));
        runtime.routes?.(app);
      },
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    });
    return {
      ...service,
      db: handle.db,
      stop: async () => {
        await service.stop();
        for (const step of cleanup) await step();
        await handle.close();
      },
    };
  } catch (error) {
    for (const step of cleanup) await step().catch(() => {});
    await handle.close();
    throw error;
  }
}
