import { GraphQLError } from 'graphql';

/** The error codes of the public contract; clients switch on `extensions.code`. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'INSUFFICIENT_STOCK'
  /** An open stocktake holds the product (extensions.stocktakeId): retry once it closes. */
  | 'STOCKTAKE_IN_PROGRESS'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'INTERNAL_SERVER_ERROR'
  /** A subscription's resume point is older than its stream keeps: subscribe afresh (and reload). */
  | 'RESUME_EXPIRED'
  /** A connection or user holds as many live subscriptions as the gateway allows. */
  | 'TOO_MANY_SUBSCRIPTIONS'
  /** A subscriber fell too far behind its events and was dropped; reconnect with the last id to resume. */
  | 'SLOW_CONSUMER'
  /** A live subscription's gateway is stopping: reconnect (another replica answers) and resume from the last stream id. */
  | 'SHUTTING_DOWN';

export class CodedError extends GraphQLError {
  constructor(message: string, code: ErrorCode, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
  }
}

export class BadUserInputError extends CodedError {
  constructor(message: string, argument?: string) {
    super(message, 'BAD_USER_INPUT', argument ? { argument } : {});
  }
}

export class NotFoundError extends CodedError {
  constructor(what: string, id: string) {
    super(`${what} ${id} not found`, 'NOT_FOUND');
  }
}

export class ConflictError extends CodedError {
  constructor(message: string) {
    super(message, 'CONFLICT');
  }
}

/** No valid credentials: the client should sign in (again). */
export class UnauthenticatedError extends CodedError {
  constructor(message = 'Sign in to do this', extensions: Record<string, unknown> = {}) {
    super(message, 'UNAUTHENTICATED', extensions);
  }
}

/** Signed in, but the role or ownership does not allow it. */
export class ForbiddenError extends CodedError {
  constructor(message = 'Not allowed', extensions: Record<string, unknown> = {}) {
    super(message, 'FORBIDDEN', extensions);
  }
}

export class RateLimitedError extends CodedError {
  constructor(message: string, retryAfterSeconds: number) {
    super(message, 'RATE_LIMITED', { retryAfterSeconds });
  }
}
