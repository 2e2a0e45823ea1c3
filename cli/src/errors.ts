/** Exit codes of `stockgraph`, documented in docs/operators/cli.md: 0 ok, 1 a check or operation failed, 2 misuse. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_MISUSE = 2;

/**
 * An error the operator can act on: printed as one line, no stack trace. `exitCode` 2 means the
 * command was used wrongly (bad file, bad flag); 1 means the work itself failed (database down, a
 * check disagreed).
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = EXIT_FAILED,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const misuse = (message: string) => new CliError(message, EXIT_MISUSE);

/** Connection failures as one line: the address and the reason, never the driver's stack. */
export function describeDatabaseError(error: unknown, what: string): CliError | undefined {
  const code = typeof error === 'object' && error && 'code' in error ? String((error as { code: unknown }).code) : '';
  if (
    ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'CONNECT_TIMEOUT', '3D000', '28P01', '28000'].includes(
      code,
    )
  ) {
    return new CliError(`cannot reach ${what}: ${(error as Error).message}`);
  }
  return undefined;
}
