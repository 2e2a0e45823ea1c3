import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { capForLog } from '@stockgraph/server';
import { GraphQLError } from 'graphql';

/** Codes that always mean the request itself was wrong. */
const CLIENT_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

function clientError(error: GraphQLError, code: string, message = error.message): GraphQLError {
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: { ...error.extensions, code, http: { status: 400 } },
  });
}

/** What a request-level error really is, when Apollo or a plugin left it uncoded or without a 4xx status. */
function classify(error: GraphQLError): GraphQLError {
  const code = error.extensions?.code;
  const http = error.extensions?.http as { status?: number } | undefined;
  if (typeof code === 'string') return CLIENT_CODES.has(code) && !http?.status ? clientError(error, code) : error;
  // graphql-armor's limits (tokens, depth, aliases, directives, cost) all reject as "Syntax Error: …".
  if (error.message.startsWith('Syntax Error:')) {
    return clientError(error, /Token limit/.test(error.message) ? 'GRAPHQL_PARSE_FAILED' : 'GRAPHQL_VALIDATION_FAILED');
  }
  if (error.message === 'Unsupported persisted query version')
    return clientError(error, 'PERSISTED_QUERY_NOT_SUPPORTED');
  return error;
}

/** The request errors the GraphQL-over-HTTP spec answers with 200 to a client that accepts only `application/json`. */
const LEGACY_OK_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT']);

/**
 * A client that asks for `application/json` and not `application/graphql-response+json` may sit behind
 * proxies that swallow a 4xx body, so the spec has it read a document's parse, validation or variable
 * errors from a 200 (its "SHOULD use 200" audits). Everyone else, including a client that sends no
 * preference, keeps the 400.
 */
function acceptsOnlyLegacyJson(accept: string | undefined): boolean {
  return !!accept && accept.includes('application/json') && !accept.includes('application/graphql-response+json');
}

/**
 * A client's mistake is a 4xx with a client code (DESIGN: never a 5xx). Apollo answers 500 for errors
 * it does not recognise — graphql-armor's refusals, an operation name the document does not hold (the
 * gateway's planner fails on it), an unsupported APQ version — and the error formatter would then hide
 * them as internal errors. This rewrites those request-level errors before they are formatted; errors from execution are
 * left alone.
 */
export function clientErrorsPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart({ request }) {
      let executing = false;
      const legacyJson = acceptsOnlyLegacyJson(request.http?.headers.get('accept'));
      return {
        // A document that parsed and validated but holds no operation by the name asked for: refused
        // here, before the gateway's planner would fail on it as an internal error.
        async didResolveOperation({ operation, request }) {
          if (operation) return;
          const name = request.operationName;
          throw new GraphQLError(
            name
              ? `Unknown operation named "${capForLog(name, 64)}"`
              : 'Must provide operation name if query contains multiple operations',
            { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } },
          );
        },
        async executionDidStart() {
          executing = true;
        },
        async didEncounterErrors(context) {
          if (executing) return;
          // Apollo formats this very array once the plugins have seen it.
          const errors = context.errors as GraphQLError[];
          for (const [i, error] of errors.entries()) errors[i] = classify(error);
        },
        async willSendResponse({ response }) {
          if (!legacyJson || response.http.status !== 400 || response.body.kind !== 'single') return;
          const { errors, data } = response.body.singleResult;
          if (
            data === undefined &&
            errors?.length &&
            errors.every((e) => LEGACY_OK_CODES.has(String(e.extensions?.code)))
          ) {
            response.http.status = 200;
          }
        },
      };
    },
  };
}
