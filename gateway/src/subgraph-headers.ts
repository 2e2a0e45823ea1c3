import { SUBGRAPH_SECRET_HEADER } from '@stockgraph/server';

/**
 * What the gateway adds to every subgraph request: the caller's token (each subgraph checks it
 * again), the client's address (sign-in throttling), and the gateway's own credential, without which a
 * subgraph with SUBGRAPH_SHARED_SECRET set answers nothing.
 */
export function subgraphHeaders(
  context: { token?: string | null; clientAddress?: string },
  env: { SUBGRAPH_SHARED_SECRET?: string },
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (context.token) headers.authorization = `Bearer ${context.token}`;
  if (context.clientAddress) headers['x-forwarded-for'] = context.clientAddress;
  if (env.SUBGRAPH_SHARED_SECRET) headers[SUBGRAPH_SECRET_HEADER] = env.SUBGRAPH_SHARED_SECRET;
  return headers;
}
