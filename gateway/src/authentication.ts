import {
  bearerToken,
  createTokenVerifier,
  localRevocations,
  remoteKeySet,
  type Identity,
  type RevocationList,
} from '@stockgraph/auth';
import { ServiceUnavailableError, UnauthenticatedError } from '@stockgraph/graphql-kit';
import type { Logger } from '@stockgraph/logger';

export interface AuthenticationSettings {
  jwksUrl: string;
  issuer: string;
  audience: string;
  sessionCheckUrl: string;
  sessionCacheMs: number;
  /** How long a fetched JWKS is used; the last good one is kept while the users service is away. */
  jwksCacheMs?: number;
  /**
   * The revocation list in Redis: while it is fresh (read within `sessionCacheMs`) it answers alone and
   * the users service is not asked at all; when it is stale (Redis away) the users service is asked.
   */
  revocations?: RevocationList;
  logger: Logger;
  /** Told whether each token was found in the verified-token cache. */
  onTokenCacheLookup?: (hit: boolean) => void;
}

/** If the users service cannot be asked, a session seen live this recently is still trusted. */
const STALE_GRACE_MS = 60_000;

/**
 * Turns an Authorization header into an identity. The signature and claims are checked locally
 * against the users service's JWKS; whether the session is still live (not logged out, user not
 * deactivated) is asked of the users service and remembered for `sessionCacheMs`, so revocation
 * takes effect within that time without a call per request.
 */
export function createAuthenticator(settings: AuthenticationSettings) {
  const verify = createTokenVerifier(remoteKeySet(settings.jwksUrl, settings.jwksCacheMs), {
    ...settings,
    cache: { onLookup: settings.onTokenCacheLookup },
  });
  const { revocations } = settings;
  const local = localRevocations();
  const sessions = new Map<string, { live: boolean; checkedAt: number }>();

  async function sessionIsLive(identity: Identity, token: string): Promise<boolean> {
    // The in-process list first: with `pnpm start` the users service in this process has just written it.
    if (local.isRevoked(identity.sessionId) || revocations?.isRevoked(identity.sessionId)) return false;
    if (revocations && revocations.ageMs() <= Math.max(settings.sessionCacheMs, 1000)) return true;
    const cached = sessions.get(identity.sessionId);
    const now = Date.now();
    if (cached && now - cached.checkedAt < settings.sessionCacheMs) return cached.live;
    try {
      const response = await fetch(settings.sessionCheckUrl, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(2000),
      });
      if (response.status !== 200 && response.status !== 401)
        throw new Error(`session check answered ${response.status}`);
      const live = response.status === 200;
      if (sessions.size > 50_000) sessions.clear();
      sessions.set(identity.sessionId, { live, checkedAt: now });
      return live;
    } catch (error) {
      if (cached?.live && now - cached.checkedAt < STALE_GRACE_MS) return true;
      // Redis and the users service both away: the last revocation list read is the best knowledge left.
      if (revocations && Number.isFinite(revocations.ageMs())) return true;
      settings.logger.warn({ err: error }, 'session check failed');
      // 503, never 401: a client that sees 401 drops its session; this one should retry.
      throw new ServiceUnavailableError('Sign-in cannot be checked right now; try again');
    }
  }

  return async (authorization: string | undefined): Promise<{ identity: Identity; token: string } | null> => {
    const token = bearerToken(authorization);
    if (!token) return null;
    const identity = await verify(token);
    if (!(await sessionIsLive(identity, token))) {
      throw new UnauthenticatedError('Session ended; sign in again', { reason: 'SESSION_REVOKED' });
    }
    return { identity, token };
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;
