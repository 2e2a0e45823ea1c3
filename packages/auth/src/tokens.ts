import { ServiceUnavailableError, UnauthenticatedError } from '@stockgraph/graphql-kit';
import {
  createLocalJWKSet,
  errors,
  jwtVerify,
  type CryptoKey,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  type KeyObject,
} from 'jose';
import { isRole, scopesFor, type Identity } from './roles.js';
import { cacheVerifiedTokens, type VerifiedTokenCacheOptions } from './verified-tokens.js';

/** The only signature algorithm accepted: asymmetric, so "HS256 signed with the public key" and `none` fail. */
export const TOKEN_ALGORITHM = 'ES256';

export interface TokenSettings {
  issuer: string;
  audience: string;
}

export type VerificationKey = JWTVerifyGetKey | CryptoKey | KeyObject;

/** Thrown by the key set when it has never been fetched and cannot be now: the issuer is away. */
export class KeySetUnavailableError extends Error {}

/**
 * A JWKS fetched from the users service, used for `cacheMs`, and fetched again when a token names a
 * key id it does not hold (key rotation) — at most every 30 s, so forged kids cannot hammer the issuer.
 * The last good key set is kept while the users service is away: tokens it signed stay valid through
 * its outage. Only a process that never got the key set cannot verify, and says so (503, not 401).
 */
export function remoteKeySet(jwksUrl: string, cacheMs = 10 * 60_000): JWTVerifyGetKey {
  const url = new URL(jwksUrl);
  let keys: JWTVerifyGetKey | null = null;
  let fetchedAt = 0;
  let triedAt = 0;
  let loading: Promise<void> | null = null;
  const load = () =>
    (loading ??= (async () => {
      triedAt = Date.now();
      const response = await fetch(url, { signal: AbortSignal.timeout(3000), headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
      keys = createLocalJWKSet((await response.json()) as JSONWebKeySet);
      fetchedAt = Date.now();
    })().finally(() => (loading = null)));
  return async (header, token) => {
    if (!keys) {
      await load().catch(() => undefined);
      if (!keys) throw new KeySetUnavailableError(`the key set at ${url.host} cannot be fetched`);
    } else if (Date.now() - fetchedAt > cacheMs && Date.now() - triedAt > STALE_RETRY_MS) {
      // Stale: refresh in the background and go on with the last good set, whether or not that works.
      void load().catch(() => undefined);
    }
    try {
      return await keys(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || Date.now() - triedAt < REFETCH_COOLDOWN_MS) throw error;
      await load().catch(() => undefined);
      return keys(header, token);
    }
  };
}

const REFETCH_COOLDOWN_MS = 30_000;
/** How often a stale key set is fetched again while the users service does not answer. */
const STALE_RETRY_MS = 5000;

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'TOKEN_EXPIRED';
  if (error instanceof errors.JWTClaimValidationFailed) return `TOKEN_CLAIM_INVALID:${error.claim}`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'TOKEN_ALGORITHM_REFUSED';
  if (error instanceof errors.JWKSNoMatchingKey) return 'TOKEN_KEY_UNKNOWN';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'TOKEN_SIGNATURE_INVALID';
  return 'TOKEN_INVALID';
}

/**
 * Verifies an access token and returns who it proves the caller is, or throws UNAUTHENTICATED. A token
 * verified once is remembered until it expires (see verified-tokens.ts); `cache: false` checks every call.
 */
export function createTokenVerifier(
  key: VerificationKey,
  settings: TokenSettings & { cache?: VerifiedTokenCacheOptions | false },
) {
  const verifyOnce = async (token: string): Promise<Identity> => {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key as JWTVerifyGetKey, {
        issuer: settings.issuer,
        audience: settings.audience,
        algorithms: [TOKEN_ALGORITHM],
        requiredClaims: ['sub', 'exp', 'iat', 'sid'],
        clockTolerance: 5,
      }));
    } catch (error) {
      if (error instanceof UnauthenticatedError) throw error;
      if (error instanceof KeySetUnavailableError)
        throw new ServiceUnavailableError('Sign-in cannot be checked right now; try again');
      const reason = reasonOf(error);
      throw new UnauthenticatedError(reason === 'TOKEN_EXPIRED' ? 'Access token expired' : 'Invalid access token', {
        reason,
      });
    }
    if (!isRole(payload.role) || typeof payload.sid !== 'string' || typeof payload.sub !== 'string') {
      throw new UnauthenticatedError('Invalid access token', { reason: 'TOKEN_CLAIM_INVALID:role' });
    }
    return { userId: payload.sub, role: payload.role, scopes: scopesFor(payload.role), sessionId: payload.sid };
  };
  return settings.cache === false ? verifyOnce : cacheVerifiedTokens(verifyOnce, settings.cache);
}

export type TokenVerifier = ReturnType<typeof createTokenVerifier>;

/** The token of an `Authorization: Bearer <token>` header; null when there is no header. */
export function bearerToken(header: string | undefined | null): string | null {
  if (!header) return null;
  const match = /^Bearer ([A-Za-z0-9_\-.]{10,4096})$/.exec(header.trim());
  if (!match)
    throw new UnauthenticatedError('Authorization header must be "Bearer <access token>"', {
      reason: 'TOKEN_MALFORMED',
    });
  return match[1]!;
}
