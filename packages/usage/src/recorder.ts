import type {
  ApolloServerPlugin,
  BaseContext,
  GraphQLRequestContextDidResolveOperation,
  GraphQLRequestListener,
} from '@apollo/server';
import type { Logger } from '@stockgraph/logger';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import { Counter, Gauge, type Registry } from 'prom-client';
import { type Client, UsageAggregator } from './aggregator.js';
import { type OperationPlan, planOperation, variableCoordinates } from './coordinates.js';
import type { UsageEnv } from './env.js';
import { UsageWriter } from './store.js';

export interface UsageRecorderOptions<TContext extends BaseContext> {
  /** The parsed usageEnvShape; recording is off when USAGE_DATABASE_URL is unset. */
  env: Readonly<UsageEnv>;
  logger: Logger;
  /** Where the recorder's metrics go (the gateway's /metrics). */
  registry: Registry;
  /** The calling app, already checked and bounded by the caller; never a metric label here. */
  clientOf(requestContext: GraphQLRequestContextDidResolveOperation<TContext>): Client;
  /**
   * Operations that are not a client's own, left out: the queries the gateway runs itself to answer a
   * subscription's events would otherwise count once per event.
   */
  ignore?(requestContext: GraphQLRequestContextDidResolveOperation<TContext>): boolean;
  /** Documents whose coordinates are kept worked out. Default 1,000. */
  documentCacheSize?: number;
  /** For tests. */
  now?: () => number;
  random?: () => number;
}

/** An operation served outside Apollo's request pipeline, e.g. a subscription over SSE or WebSocket. */
export interface ServedOperation {
  /** The API schema it was validated against. */
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variables?: Readonly<Record<string, unknown>>;
  client: Client;
}

export interface UsageRecorder<TContext extends BaseContext> {
  plugin: ApolloServerPlugin<TContext>;
  /**
   * Counts an operation the plugin does not see, sampled like the rest; never throws. Its
   * coordinates are worked out each time (no query hash to cache them by): meant for subscription
   * starts, not for every request.
   */
  record(operation: ServedOperation): void;
  /** Writes what was counted so far; resolves once written or dropped, never rejects. */
  flush(): Promise<void>;
  /** Stops the timers, flushes a last time and closes the store's connection. */
  stop(): Promise<void>;
}

const HOUR_MS = 3_600_000;
/** A flush not done by then is given up and its batch dropped; the next one starts on a fresh client. */
const FLUSH_DEADLINE_MS = 30_000;

class Deadline extends Error {}

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Deadline(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Records which schema coordinates each client version uses, for schema:check --usage and
 * `stockgraph usage report`.
 *
 * On the request path: one sampling draw, a cache lookup of the operation's coordinates (worked out
 * with graphql-js's TypeInfo once per document and schema), a walk of the variables that can carry
 * input fields or enum values, and a counter increment per coordinate. Enum values and input fields
 * passed in variables are counted (they are how clients usually send them), as sent by that request.
 * Nothing on that path waits for the store or can throw into the request.
 *
 * Off it: a timer writes the counts in one upsert every USAGE_FLUSH_SECONDS, and deletes hours older
 * than the retention at start and every hour. A failed flush drops its batch and counts the drop:
 * usage is a statistic, and holding batches for a store that is away would only grow the process.
 */
export function createUsageRecorder<TContext extends BaseContext>(
  options: UsageRecorderOptions<TContext>,
): UsageRecorder<TContext> {
  const { env, logger, registry, clientOf } = options;
  const url = env.USAGE_DATABASE_URL;
  if (!url) return { plugin: {}, record: () => {}, flush: async () => {}, stop: async () => {} };

  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const rate = env.USAGE_SAMPLE_RATE;
  const log = logger.child({ component: 'usage' });
  const aggregator = new UsageAggregator({
    maxKeys: env.USAGE_MAX_KEYS,
    maxClientsPerHour: env.USAGE_MAX_CLIENTS_PER_HOUR,
  });
  const writer = new UsageWriter(url);

  const recorded = new Counter({
    name: 'stockgraph_usage_operations_total',
    help: 'Operations whose schema coordinates were counted (after sampling, USAGE_SAMPLE_RATE)',
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'stockgraph_usage_dropped_total',
    help:
      'Sampled operations whose usage was lost: store (a flush failed or timed out), ' +
      'full (USAGE_MAX_KEYS reached before a flush), error (the recorder failed on the operation)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const written = new Counter({
    name: 'stockgraph_usage_rows_written_total',
    help: 'Rows (hour, client, version, coordinate) the usage flushes added to the store',
    registers: [registry],
  });
  new Gauge({
    name: 'stockgraph_usage_pending_keys',
    help: 'Counts held for the next usage flush (bounded by USAGE_MAX_KEYS)',
    registers: [registry],
    collect() {
      this.set(aggregator.size);
    },
  });

  // A new schema (the supergraph reloaded) may give the same document other coordinates.
  let plansFor: GraphQLSchema | undefined;
  const plans = new LRUCache<string, OperationPlan | false>({ max: options.documentCacheSize ?? 1000 });
  const planOf = (requestContext: GraphQLRequestContextDidResolveOperation<TContext>) => {
    const { schema, queryHash, document, operationName } = requestContext;
    if (schema !== plansFor) {
      plans.clear();
      plansFor = schema;
    }
    const key = `${queryHash}\u0000${operationName ?? ''}`;
    let plan = plans.get(key);
    if (plan === undefined) {
      plan = planOperation(schema, document, operationName) ?? false;
      plans.set(key, plan);
    }
    return plan || undefined;
  };

  let failing = false;
  const noteRecordingError = (error: unknown) => {
    dropped.inc({ reason: 'error' });
    if (!failing) log.error({ err: error }, 'usage recording failed for an operation; it is dropped');
    failing = true;
  };

  const count = (plan: OperationPlan, variables: ServedOperation['variables'], client: () => Client) => {
    const extra = variableCoordinates(plan, variables);
    if (plan.coordinates.length === 0 && !extra?.size) return;
    if (aggregator.add(now(), client(), plan.coordinates, plan.named, extra)) recorded.inc();
    else dropped.inc({ reason: 'full' });
  };

  const recordRequest = (requestContext: GraphQLRequestContextDidResolveOperation<TContext>) => {
    try {
      if (rate < 1 && random() >= rate) return;
      if (!requestContext.operation || options.ignore?.(requestContext)) return;
      const plan = planOf(requestContext);
      if (plan) count(plan, requestContext.request.variables, () => clientOf(requestContext));
    } catch (error) {
      noteRecordingError(error);
    }
  };

  const record = (operation: ServedOperation) => {
    try {
      if (rate < 1 && random() >= rate) return;
      const plan = planOperation(operation.schema, operation.document, operation.operationName);
      if (plan) count(plan, operation.variables, () => operation.client);
    } catch (error) {
      noteRecordingError(error);
    }
  };

  // One constant listener: nothing is allocated per request for an operation that is not sampled.
  const listener: GraphQLRequestListener<TContext> = {
    didResolveOperation: async (requestContext) => recordRequest(requestContext),
  };

  let storeDown = false;
  const storeFailed = (error: unknown, what: string, lost: number) => {
    writer.reset(error instanceof Deadline);
    // One warning per outage, not one per flush; the counter keeps the tally.
    if (!storeDown) log.warn({ err: error, lostOperations: lost }, `usage store unavailable: ${what}`);
    else log.debug({ err: error, lostOperations: lost }, `usage store still unavailable: ${what}`);
    storeDown = true;
  };
  const storeAnswered = () => {
    if (storeDown) log.info('usage store available again');
    storeDown = false;
  };

  let busy = false;
  const flushOnce = async () => {
    busy = true;
    try {
      const batch = aggregator.take();
      if (batch.rows.length === 0) return;
      try {
        await within(writer.write(batch.rows, rate), FLUSH_DEADLINE_MS);
        written.inc(batch.rows.length);
        storeAnswered();
      } catch (error) {
        dropped.inc({ reason: 'store' }, batch.operations);
        storeFailed(error, 'a batch of usage counts was dropped', batch.operations);
      }
    } finally {
      busy = false;
    }
  };
  let chain: Promise<void> = Promise.resolve();
  const flush = () => (chain = chain.then(flushOnce));

  const retain = async () => {
    try {
      const deleted = await within(writer.deleteOlderThan(env.USAGE_RETENTION_DAYS), FLUSH_DEADLINE_MS);
      if (deleted > 0) log.info({ deleted, days: env.USAGE_RETENTION_DAYS }, 'old usage deleted');
      storeAnswered();
    } catch (error) {
      storeFailed(error, 'old usage not deleted this time', 0);
    }
  };

  // A tick during a slow flush is skipped, not queued: the counts wait for the next tick, bounded by USAGE_MAX_KEYS.
  const flushTimer = setInterval(() => {
    if (!busy) void flush();
  }, env.USAGE_FLUSH_SECONDS * 1000);
  flushTimer.unref();
  const retentionTimer = setInterval(() => void retain(), HOUR_MS);
  retentionTimer.unref();
  // Creates the schema and trims old hours at start, without holding the gateway's start up.
  const started = retain();

  return {
    plugin: { requestDidStart: async () => listener },
    record,
    flush,
    stop: async () => {
      clearInterval(flushTimer);
      clearInterval(retentionTimer);
      await started;
      await flush();
      await writer.close().catch(() => undefined);
    },
  };
}
