import { decodeJwt } from 'jose';
import type { Identity } from './roles.js';

export interface VerifiedTokenCacheOptions {
  /** Tokens remembered at most; the least recently used goes first. */
  maxEntries?: number;
  /**
   * A verified token is trusted again without its signature for at most this long (and never past its
   * `exp`), so a key withdrawn from the JWKS stops working within this bound.
   */
  maxAgeMs?: number;
  now?: () => number;
  /** Told whether each lookup found a still-trusted entry, for the cache's hit ratio in /metrics. */
  onLookup?: (hit: boolean) => void;
}

/**
 * Verifying an ES256 signature is most of what authentication costs per request, and a client sends the
 * same token for its lifetime: remember each verified token's identity until it expires. Only successes
 * are kept (a forged token cannot fill the cache), the key is the whole token (a token differing in any
 * byte is verified afresh), and session revocation is checked by the caller on every request as before.
 */
export function cacheVerifiedTokens(
  verify: (token: string) => Promise<Identity>,
  { maxEntries = 10_000, maxAgeMs = 60_000, now = Date.now, onLookup }: VerifiedTokenCacheOptions = {},
): (token: string) => Promise<Identity> {
  const verified = new Map<string, { identity: Identity; until: number }>();
  return async (token) => {
    const hit = verified.get(token);
    if (hit) {
      verified.delete(token);
      if (now() < hit.until) {
        verified.set(token, hit);
        onLookup?.(true);
        return hit.identity;
      }
    }
    onLookup?.(false);
    const identity = await verify(token);
    const { exp } = decodeJwt(token);
    const until = Math.min(now() + maxAgeMs, (exp ?? 0) * 1000);
    if (until > now()) {
      if (verified.size >= maxEntries) verified.delete(verified.keys().next().value!);
      verified.set(token, { identity, until });
    }
    return identity;
  };
}
