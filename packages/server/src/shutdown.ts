import type { Express, Response } from 'express';

/** Time kept back from SHUTDOWN_TIMEOUT_MS for closing pools and consumers after the HTTP drain. */
const CLOSE_RESERVE_MS = 1000;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 20_000;

/** How long the HTTP drain may wait for in-flight requests within the whole shutdown budget. */
export function drainMillis(shutdownTimeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS): number {
  return Math.max(0, shutdownTimeoutMs - CLOSE_RESERVE_MS);
}

export interface ShutdownState {
  readonly draining: boolean;
  /** From now on /ready says no and no answer keeps its connection open for another request. */
  begin(): void;
}

/**
 * Knows the responses in flight so that, once shutdown begins, each one still to be written tells its
 * client to close the connection: a keep-alive client (the gateway's pool, a load balancer) then
 * never sends a new request down a socket that is about to close, which it would see as a reset.
 */
export function trackShutdown(app: Express): ShutdownState {
  const inFlight = new Set<Response>();
  let draining = false;
  app.use((_req, res, next) => {
    if (draining) res.setHeader('connection', 'close');
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    next();
  });
  return {
    get draining() {
      return draining;
    },
    begin() {
      draining = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    },
  };
}
