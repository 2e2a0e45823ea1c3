import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from '@stockgraph/logger';
import { BadUserInputError } from '@stockgraph/graphql-kit';
import { databaseError } from './database-errors.js';
import { currentRequestId } from './request-tracing.js';
import { isDependencyUnavailable } from './unavailable.js';

/**
 * Errors the service raised on purpose (they carry a code) reach the client as they are; anything
 * else — a driver error, a bug — is logged in full and answered with a bare INTERNAL_SERVER_ERROR so
 * no SQL, stack trace or internal name leaks to a client.
 */
export function createErrorFormatter(logger: Logger, options: { requestIds?: boolean } = {}) {
  const format = formatter(logger);
  if (!options.requestIds) return format;
  // Every error a client gets names its request (X-Request-Id), so a support ticket quoting it finds
  // the log lines. Only the gateway's: a subgraph's errors reach clients through it.
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const result = format(formatted, error);
    const requestId = currentRequestId();
    return requestId ? { ...result, extensions: { ...result.extensions, requestId } } : result;
  };
}

function formatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const code = refusedValue(formatted, error) ? 'BAD_USER_INPUT' : formatted.extensions?.code;
    const deliberate = original instanceof GraphQLError && typeof original.extensions?.code === 'string';
    if (code !== 'INTERNAL_SERVER_ERROR' || deliberate) {
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions: { ...extensions, code } };
    }
    if (isDependencyUnavailable(original)) {
      logger.warn({ err: original, path: formatted.path }, 'dependency unavailable');
      return {
        message: 'A service this request needs is unavailable; try again shortly',
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: 'SERVICE_UNAVAILABLE' },
      };
    }
    const database = databaseError(original);
    if (database?.badInput) {
      // A value the database refused (out of range, malformed): the client's mistake, said without SQL.
      logger.warn({ database, path: formatted.path }, 'input refused by the database');
      const path = formatted.path ? { path: formatted.path } : {};
      return { message: 'A value is out of range or malformed', ...path, extensions: { code: 'BAD_USER_INPUT' } };
    }
    const details = database ? { database, path: formatted.path } : { err: original, path: formatted.path };
    logger.error(details, 'unexpected error');
    return {
      message: 'Internal server error',
      ...(formatted.path ? { path: formatted.path } : {}),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

/** A literal a scalar refused (a Decimal "NaN") fails validation, but it is the caller's bad input. */
function refusedValue(formatted: GraphQLFormattedError, error: unknown): boolean {
  if (formatted.extensions?.code !== 'GRAPHQL_VALIDATION_FAILED' || !(error instanceof GraphQLError)) return false;
  const cause = error.originalError;
  // Only our scalars throw BadUserInputError while validating a literal; other rules whose errors carry
  // BAD_USER_INPUT (graphql-armor's depth and alias limits) stay validation errors.
  return cause instanceof BadUserInputError && cause !== error;
}
