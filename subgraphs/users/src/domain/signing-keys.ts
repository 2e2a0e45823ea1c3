import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { TOKEN_ALGORITHM } from '@stockgraph/auth';
import { ConfigError } from '@stockgraph/config';
import { exportJWK, SignJWT, type JWK } from 'jose';

export interface SigningKeys {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public half as published in the JWKS. */
  jwk: JWK;
}

/**
 * The configured key, or in development a fresh one per start: tokens then die with the process,
 * which is what a developer restarting the stack expects, and no default key exists to leak.
 */
export async function loadSigningKeys(pem: string | undefined, kid: string | undefined): Promise<SigningKeys> {
  let privateKey: KeyObject;
  try {
    privateKey = pem ? createPrivateKey(pem) : generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  } catch {
    throw new ConfigError('users', ['JWT_PRIVATE_KEY: not a readable private key']);
  }
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new ConfigError('users', ['JWT_PRIVATE_KEY: must be an EC P-256 key (ES256)']);
  }
  const publicKey = createPublicKey(privateKey);
  const jwk = await exportJWK(publicKey);
  const thumbprint = createHash('sha256')
    .update(JSON.stringify([jwk.crv, jwk.x, jwk.y]))
    .digest('base64url')
    .slice(0, 16);
  const keyId = kid ?? thumbprint;
  return { kid: keyId, privateKey, publicKey, jwk: { ...jwk, kid: keyId, alg: TOKEN_ALGORITHM, use: 'sig' } };
}

export interface AccessTokenClaims {
  userId: string;
  role: string;
  sessionId: string;
}

export async function signAccessToken(
  keys: SigningKeys,
  claims: AccessTokenClaims,
  settings: { issuer: string; audience: string; ttlSeconds: number },
): Promise<{ token: string; expiresAt: Date }> {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + settings.ttlSeconds;
  const token = await new SignJWT({ role: claims.role, sid: claims.sessionId })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: keys.kid, typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(exp)
    .sign(keys.privateKey);
  return { token, expiresAt: new Date(exp * 1000) };
}
