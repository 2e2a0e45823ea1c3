import { GraphQLError } from 'graphql';

/**
 * Something this answer depends on is away (the users service, its key set): HTTP 503 with
 * Retry-After, never 401, so a client keeps its session and retries instead of signing out.
 */
export class ServiceUnavailableError extends GraphQLError {
  constructor(message: string, retryAfterSeconds = 5, extensions: Record<string, unknown> = {}) {
    super(message, {
      extensions: {
        ...extensions,
        code: 'SERVICE_UNAVAILABLE',
        retryAfterSeconds,
        http: { status: 503, headers: new Map([['retry-after', String(retryAfterSeconds)]]) },
      },
    });
  }
}
