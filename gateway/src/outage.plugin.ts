import type { ApolloServerPlugin, BaseContext } from '@apollo/server';

const OUTAGE_CODES = new Set(['SUBGRAPH_UNAVAILABLE', 'SERVICE_UNAVAILABLE']);

/**
 * A response that answers nothing because a service was down is an outage, not a GraphQL result:
 * HTTP 503 with Retry-After tells clients, proxies and load balancers to try again later. A partial
 * answer stays 200, its holes marked by the coded errors at their paths.
 */
export function outagePlugin<TContext extends BaseContext>(retryAfterSeconds: number): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const { data, errors } = response.body.singleResult;
          if (!errors?.some((e) => OUTAGE_CODES.has(String(e.extensions?.code)))) return;
          const nothingAnswered = data == null || Object.values(data).every((value) => value === null);
          if (!nothingAnswered) return;
          response.http.status = 503;
          response.http.headers.set('retry-after', String(Math.max(1, retryAfterSeconds)));
        },
      };
    },
  };
}
