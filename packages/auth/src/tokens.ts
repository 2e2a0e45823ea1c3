import { UnauthenticatedError } from '@stockgraph/graphql-kit';
import { createRemoteJWKSet, errors, jwtVerify, type CryptoKey, type JWTVerifyGetKey, type KeyObject } from 'jose';
import { isRole, scopesFor, type Identity } from './roles.js';

/** The only signature algorithm accepted: asymmetric, so "HS256 signed with the public key" and `none` fail. */
export const TOKEN_ALGORITHM = 'ES256';

export interface TokenSettings {
  issuer: string;
  audience: string;
}

export type VerificationKey = JWTVerifyGetKey | CryptoKey | KeyObject;

/**
 * A JWKS fetched from the users service, cached, and fetched again when a token names a key id
 * it does not hold (key rotation) — at most every 30 s, so forged kids cannot hammer the issuer.
 */
export function remoteKeySet(jwksUrl: string): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000, timeoutDuration: 3000 });
}

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'TOKEN_EXPIRED';
  if (error instanceof errors.JWTClaimValidationFailed) return `TOKEN_CLAIM_INVALID:${error.claim}`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'TOKEN_ALGORITHM_REFUSED';
  if (error instanceof errors.JWKSNoMatchingKey) return 'TOKEN_KEY_UNKNOWN';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'TOKEN_SIGNATURE_INVALID';
  return 'TOKEN_INVALID';
}

/** Verifies an access token and returns who it proves the caller is, or throws UNAUTHENTICATED. */
export function createTokenVerifier(key: VerificationKey, settings: TokenSettings) {
  return async (token: string): Promise<Identity> => {
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
      const reason = reasonOf(error);
      throw new UnauthenticatedError(reason === 'TOKEN_EXPIRED' ? 'Access token expired' : 'Invalid access token', { reason });
    }
    if (!isRole(payload.role) || typeof payload.sid !== 'string' || typeof payload.sub !== 'string') {
      throw new UnauthenticatedError('Invalid access token', { reason: 'TOKEN_CLAIM_INVALID:role' });
    }
    return { userId: payload.sub, role: payload.role, scopes: scopesFor(payload.role), sessionId: payload.sid };
  };
}

export type TokenVerifier = ReturnType<typeof createTokenVerifier>;

/** The token of an `Authorization: Bearer <token>` header; null when there is no header. */
export function bearerToken(header: string | undefined | null): string | null {
  if (!header) return null;
  const match = /^Bearer ([A-Za-z0-9_\-.]{10,4096})$/.exec(header.trim());
  if (!match) throw new UnauthenticatedError('Authorization header must be "Bearer <access token>"', { reason: 'TOKEN_MALFORMED' });
  return match[1]!;
}
