import { AsyncLocalStorage } from 'node:async_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What one HTTP request has done so far, for the per-operation figures. */
export interface RequestStats {
  /** SQL statements sent while serving it. */
  statements: number;
  /** The read replica this request's statements outside transactions go to; unset: the primary. */
  readReplica?: number;
}

/**
 * Set while an HTTP request is being served, so SQL can be told apart from background work (relay,
 * consumers) and counted per operation.
 */
export const requestScope = new AsyncLocalStorage<RequestStats>();

/** The caches whose hit ratio the dashboards show; a fixed set. */
export type CacheName = 'verified_token' | 'authorization_decision' | 'persisted_operation';

/**
 * One registry per service, not prom-client's global one: the embedded launcher runs several
 * services in one process and each must report its own figures on its own /metrics.
 */
export function createMetrics(service: string, { database = false }: { database?: boolean } = {}) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const cacheLookups = new Counter({
    name: 'stockgraph_cache_lookups_total',
    help: 'Lookups in the verified-token, authorization-decision and persisted-operation caches, by result (hit or miss)',
    labelNames: ['cache', 'result'] as const,
    registers: [registry],
  });
  return {
    registry,
    sqlStatements: new Counter({
      name: 'stockgraph_sql_statements_total',
      help: 'SQL statements sent to the database, by whether a request or background work (event relay, consumers) sent them',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    requests: new Counter({
      name: 'stockgraph_graphql_requests_total',
      help: 'GraphQL operations handled, by operation name, type (query, mutation, subscription) and outcome (ok, client_error, server_error)',
      labelNames: ['operation', 'type', 'outcome'] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'stockgraph_graphql_errors_total',
      help: 'GraphQL errors returned, by extensions.code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'stockgraph_graphql_request_duration_seconds',
      help: 'Time to answer a GraphQL operation, by operation name and type',
      labelNames: ['operation', 'type'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    /** Observed only by services with a database (see `observeStatements`). */
    statementsPerOperation: new Histogram({
      name: 'stockgraph_sql_statements_per_operation',
      help: 'SQL statements one GraphQL operation sent (an N+1 shows up as a shift to the right)',
      labelNames: ['operation'] as const,
      buckets: [0, 1, 2, 3, 5, 8, 13, 21, 34, 55],
      registers: [registry],
    }),
    /** Whether this service sends SQL, so a gateway does not report a histogram of zeros. */
    observeStatements: database,
    denials: new Counter({
      name: 'stockgraph_authorization_denials_total',
      help: 'Fields refused by authorization, by the schema coordinate whose rule refused them and the decision (forbidden, unauthenticated, or policy: a data policy such as ownership)',
      labelNames: ['rule', 'decision'] as const,
      registers: [registry],
    }),
    cacheLookup(cache: CacheName, hit: boolean) {
      cacheLookups.inc({ cache, result: hit ? 'hit' : 'miss' });
    },
  };
}

export type ServiceMetrics = ReturnType<typeof createMetrics>;

/**
 * Database pool figures, read at scrape time: statements and transactions in flight against the
 * pool's size. More in flight than the pool holds means callers queue for a connection.
 */
export function registerPoolMetrics(registry: Registry, usage: () => { inFlight: number; max: number }) {
  new Gauge({
    name: 'stockgraph_db_pool_in_flight',
    help: 'Statements and transactions holding (or queued for) a pool connection; above stockgraph_db_pool_max means queueing',
    registers: [registry],
    collect() {
      this.set(usage().inFlight);
    },
  });
  new Gauge({
    name: 'stockgraph_db_pool_max',
    help: 'Connections the pool may open (DATABASE_POOL_MAX)',
    registers: [registry],
    collect() {
      this.set(usage().max);
    },
  });
}
