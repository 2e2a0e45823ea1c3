import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Logger } from '@stockgraph/logger';
import type { ServiceMetrics } from './metrics.js';

/** Logs one line per operation and feeds the request, latency and error metrics. */
export function observabilityPlugin<TContext extends BaseContext>(logger: Logger, metrics: ServiceMetrics): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ request, response, operationName, errors }) {
          const operation = operationName ?? request.operationName ?? 'anonymous';
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const codes = (errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
          for (const code of codes) metrics.errors.inc({ code });
          metrics.requests.inc({ operation, outcome: codes.length > 0 ? 'error' : 'ok' });
          metrics.duration.observe({ operation }, seconds);
          const status = response.http.status ?? 200;
          logger.info({ operation, ms: Math.round(seconds * 1000), status, errors: codes.length ? codes : undefined }, 'graphql');
        },
      };
    },
  };
}
