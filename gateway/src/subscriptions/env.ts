import { z } from '@stockgraph/config';

const count = (max: number) => z.coerce.number().int().min(1).max(max);

/** Live subscriptions (SSE and WebSocket on /graphql): their bounds. */
export const subscriptionEnvShape = {
  /** Live subscriptions one WebSocket connection may hold at once (an SSE connection holds one). */
  SUBSCRIPTIONS_PER_CONNECTION: count(1000).default(25),
  /** Live subscriptions one user may hold across all their connections to this gateway process. */
  SUBSCRIPTIONS_PER_USER: count(100_000).default(100),
  /** WebSocket connections one user may hold open on this gateway process (each is checked at connect). */
  WEBSOCKETS_PER_USER: count(10_000).default(20),
  /** Events a subscriber may fall behind before it is dropped with SLOW_CONSUMER (memory stays bounded). */
  SUBSCRIPTION_BACKLOG_MAX: count(100_000).default(500),
  /** How often a WebSocket is pinged; one that has not answered the previous ping is closed. SSE sends a comment every 12 s. */
  /** Key prefix of the services' event streams (the same value as theirs), read by subscriptions. */
  EVENTS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, : _ - only')
    .default('stockgraph:'),
  SUBSCRIPTION_HEARTBEAT_MS: z.coerce.number().int().min(1000).max(300_000).default(15_000),
};
