import { bearerToken, createTokenVerifier, remoteKeySet, type Identity } from '@stockgraph/auth';
import { CodedError, UnauthenticatedError } from '@stockgraph/graphql-kit';
import type { Logger } from '@stockgraph/logger';

export interface AuthenticationSettings {
  jwksUrl: string;
  issuer: string;
  audience: string;
  sessionCheckUrl: string;
  sessionCacheMs: number;
  logger: Logger;
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
  const verify = createTokenVerifier(remoteKeySet(settings.jwksUrl), settings);
  const sessions = new Map<string, { live: boolean; checkedAt: number }>();

  async function sessionIsLive(identity: Identity, token: string): Promise<boolean> {
    const cached = sessions.get(identity.sessionId);
    const now = Date.now();
    if (cached && now - cached.checkedAt < settings.sessionCacheMs) return cached.live;
    try {
      const response = await fetch(settings.sessionCheckUrl, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(2000),
      });
      if (response.status !== 200 && response.status !== 401) throw new Error(`session check answered ${response.status}`);
      const live = response.status === 200;
      if (sessions.size > 50_000) sessions.clear();
      sessions.set(identity.sessionId, { live, checkedAt: now });
      return live;
    } catch (error) {
      if (cached?.live && now - cached.checkedAt < STALE_GRACE_MS) return true;
      settings.logger.error({ err: error }, 'session check failed');
      throw new CodedError('Sign-in cannot be checked right now; try again', 'INTERNAL_SERVER_ERROR', { http: { status: 503 } });
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
