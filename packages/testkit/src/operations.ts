import { post, type GraphQLResponse } from './graphql.js';

/**
 * A typed document generated from schema/operations (codegen client preset with persisted
 * documents): its result and variables types, and the hash it has in the persisted-operation manifest.
 */
export interface PersistedDocument<TResult, TVariables> {
  __apiType?: (variables: TVariables) => TResult;
  __meta__?: { hash?: string };
}

/** The document's manifest hash, as clients send it in `extensions.persistedQuery.sha256Hash`. */
export function persistedHash(document: object): string {
  // Codegen puts the hash on the document object; TypedDocumentNode's type does not declare it.
  const hash = (document as PersistedDocument<unknown, unknown>).__meta__?.hash;
  if (!hash) throw new Error('not a persisted document: run `pnpm codegen`');
  return hash.replace(/^sha256:/, '');
}

/** The body a client sends for an operation known by its hash. */
export function persistedRequest(hash: string, variables: Record<string, unknown> = {}): Record<string, unknown> {
  return { variables, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } };
}

/**
 * Runs a shipped operation the way a mobile build does, by its manifest hash alone, typed by the
 * generated document. `headers` carries the bearer token.
 */
export function execute<TResult, TVariables extends Record<string, unknown>>(
  url: string,
  document: PersistedDocument<TResult, TVariables>,
  variables: TVariables,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<TResult>> {
  return post<TResult>(url, persistedRequest(persistedHash(document), variables), headers);
}
