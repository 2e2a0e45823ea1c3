/**
 * What a database error may show in logs: the server's code and message, never the SQL parameters
 * (emails, names, notes). Drizzle wraps driver errors in one whose message holds the SQL and every
 * parameter; postgres.js errors carry them too.
 */
export interface DatabaseErrorSummary {
  code: string;
  message: string;
  /** A data exception (SQLSTATE class 22: a value out of range, malformed, or with a NUL): the input's fault. */
  badInput: boolean;
}

export function databaseError(error: unknown): DatabaseErrorSummary | null {
  const wrapped = error as { params?: unknown; cause?: unknown } | null;
  const cause = (wrapped && typeof wrapped === 'object' && 'params' in wrapped ? wrapped.cause : error) as {
    code?: unknown;
    message?: unknown;
    severity?: unknown;
  } | null;
  if (!cause || typeof cause !== 'object' || typeof cause.code !== 'string' || !('severity' in cause)) return null;
  return { code: cause.code, message: String(cause.message), badInput: cause.code.startsWith('22') };
}
