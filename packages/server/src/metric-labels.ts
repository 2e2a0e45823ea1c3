import type { OperationDefinitionNode } from 'graphql';

/**
 * Label values must come from a bounded set: every distinct value is a new Prometheus series that
 * lives as long as the process, so a label copied from a request lets any caller grow /metrics and the
 * heap without limit (issue 8, finding 1).
 */
export const OTHER_OPERATION = 'other';

/** Longest piece of caller-chosen text written into a log line. */
export const LOG_TEXT_MAX = 100;

/** Caller-chosen text for a log field: cut to a readable length, the cut marked. */
export function capForLog(text: string | null | undefined, max = LOG_TEXT_MAX): string | undefined {
  if (text === null || text === undefined) return undefined;
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}

/**
 * The operation label: the operation's name when it is one this service knows (the gateway passes the
 * names of the persisted-operation manifest), else `<type>.<first root field>` for an operation that
 * validated (root fields are the schema's, so finitely many), else `other`.
 */
export function operationLabel(
  operationName: string | null | undefined,
  operation: OperationDefinitionNode | undefined,
  known: ReadonlySet<string>,
): string {
  if (operationName && known.has(operationName)) return operationName;
  if (!operation) return OTHER_OPERATION;
  const first = operation.selectionSet.selections[0];
  return `${operation.operation}.${first?.kind === 'Field' ? first.name.value : OTHER_OPERATION}`;
}

/**
 * Error codes that mean the service failed its caller rather than the caller asking wrongly (a denial,
 * bad input, a rate limit): what the availability service level counts against its error budget.
 */
export const SERVER_ERROR_CODES: ReadonlySet<string> = new Set([
  'INTERNAL_SERVER_ERROR',
  'SERVICE_UNAVAILABLE',
  'SUBGRAPH_UNAVAILABLE',
  'OTHER',
]);

export type OutcomeLabel = 'ok' | 'client_error' | 'server_error';

/** An operation's outcome from its error codes (as errorCodeLabel gives them): any server error makes it one. */
export function outcomeLabel(codes: readonly string[]): OutcomeLabel {
  if (codes.length === 0) return 'ok';
  return codes.some((code) => SERVER_ERROR_CODES.has(code)) ? 'server_error' : 'client_error';
}

/** query, mutation or subscription; `none` when no operation was resolved (a parse or validation error). */
export function operationTypeLabel(operation: OperationDefinitionNode | undefined): string {
  return operation?.operation ?? 'none';
}

const CODE = /^[A-Z][A-Z0-9_]{0,49}$/;

/** Error codes are ours or Apollo's; anything shaped otherwise is counted as OTHER. */
export function errorCodeLabel(code: unknown): string {
  if (code === undefined || code === null) return 'INTERNAL_SERVER_ERROR';
  return typeof code === 'string' && CODE.test(code) ? code : 'OTHER';
}
