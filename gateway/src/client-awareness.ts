import type { IncomingHttpHeaders } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import { errorCodeLabel, outcomeLabel } from '@stockgraph/server';
import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * The headers apps name themselves with: Apollo's clients send `apollographql-client-*`, GraphQL Hive's
 * and others `graphql-client-*` (some with an `x-` in front). The first one present wins.
 */
const NAME_HEADERS = ['apollographql-client-name', 'graphql-client-name', 'x-graphql-client-name'] as const;
const VERSION_HEADERS = ['apollographql-client-version', 'graphql-client-version', 'x-graphql-client-version'] as const;
export const CLIENT_HEADERS = [...NAME_HEADERS, ...VERSION_HEADERS];

/** The explorer this gateway serves names itself so; its requests are always a known client. */
export const EXPLORER_CLIENT = 'stockgraph-explorer';

// What a name or version may look like to be recorded as sent: short and printable, nothing a log
// parser or a metrics query trips on. Anything else is recorded as `invalid`, never as sent.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@/+ -]{0,63}$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

export interface ClientIdentity {
  /** As declared; `unknown` when no header names it, `invalid` when the header is malformed or too long. */
  name: string;
  /** As declared; empty when none, `invalid` when malformed. */
  version: string;
  /** The metric label: the name when it is one of KNOWN_CLIENTS, otherwise `other`. */
  label: string;
}

function first(headers: IncomingHttpHeaders, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = headers[name];
    if (value !== undefined) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

export function clientIdentifier(knownClients: readonly string[]): (headers: IncomingHttpHeaders) => ClientIdentity {
  const known = new Set([EXPLORER_CLIENT, ...knownClients]);
  return (headers) => {
    const sentName = first(headers, NAME_HEADERS)?.trim();
    const sentVersion = first(headers, VERSION_HEADERS)?.trim();
    const name = !sentName ? 'unknown' : NAME.test(sentName) ? sentName : 'invalid';
    const version = !sentVersion ? '' : VERSION.test(sentVersion) ? sentVersion : 'invalid';
    return { name, version, label: known.has(name) ? name : 'other' };
  };
}

/** Operations and their latency per known client: which app's users a slowdown or an error hits. */
export function clientMetricsPlugin<TContext extends { client: ClientIdentity }>(
  registry: Registry,
): ApolloServerPlugin<TContext> {
  const operations = new Counter({
    name: 'stockgraph_client_operations_total',
    help: 'GraphQL operations by calling app (KNOWN_CLIENTS, others as "other") and outcome (ok, client_error, server_error)',
    labelNames: ['client', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'stockgraph_client_operation_duration_seconds',
    help: 'Time to answer a GraphQL operation, by calling app',
    labelNames: ['client'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ errors }) {
          const client = contextValue.client.label;
          operations.inc({
            client,
            outcome: outcomeLabel((errors ?? []).map((e) => errorCodeLabel(e.extensions?.code))),
          });
          duration.observe({ client }, Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };
}
