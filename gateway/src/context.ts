import type { Identity } from '@stockgraph/auth';
import type { GraphQLError } from 'graphql';
import type { ClientIdentity } from './client-awareness.js';
import type { LastWrites } from './read-your-writes.js';

/**
 * What every request carries through the gateway's plugins and its calls to the subgraphs. Here, and
 * not in the composition root (app.ts), so the modules app.ts wires up can name it without importing it.
 */
export interface GatewayContext {
  identity: Identity | null;
  /** Why the request's token was refused, if it was; see the context function. */
  tokenError: GraphQLError | null;
  /** The verified bearer token, forwarded so every subgraph checks it again (zero trust). */
  token: string | null;
  clientAddress: string;
  /** The calling app, as its headers name it (client awareness: metrics, logs, spans). */
  client: ClientIdentity;
  /** The caller's last writes per subgraph, read once per request when a subgraph query first needs them. */
  lastWrites?: Promise<LastWrites>;
  /** A query the gateway runs itself to resolve a subscription's event (subscriptions/engine.ts). */
  derived?: boolean;
}
