import { AsyncLocalStorage } from 'node:async_hooks';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Set while an HTTP request is being served, so SQL can be told apart from background work (relay, consumers). */
export const requestScope = new AsyncLocalStorage<true>();

/**
 * One registry per service, not prom-client's global one: the embedded launcher runs several
 * services in one process and each must report its own figures on its own /metrics.
 */
export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
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
      help: 'GraphQL operations handled, by operation name and outcome',
      labelNames: ['operation', 'outcome'] as const,
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
      help: 'Time to answer a GraphQL operation',
      labelNames: ['operation'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}

export type ServiceMetrics = ReturnType<typeof createMetrics>;
