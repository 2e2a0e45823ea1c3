import { ConfigError } from '@stockgraph/config';

/**
 * A database that does not answer at start is a configuration problem to the operator: one line that
 * names the variable and the server (never the password), instead of a driver's stack trace.
 */
export function unreachableDatabase(service: string, url: string | undefined, error: unknown): Error {
  if (!url) return error instanceof Error ? error : new Error(String(error));
  const { hostname, port, pathname } = new URL(url);
  const e = error as { code?: string; message?: string };
  const reason =
    e.code && e.message && !e.message.includes(e.code)
      ? `${e.code}: ${e.message}`
      : (e.message ?? e.code ?? String(error));
  return new ConfigError(service, [
    `DATABASE_URL: cannot reach the database ${hostname}:${port || 5432}${pathname} (${reason})`,
  ]);
}
