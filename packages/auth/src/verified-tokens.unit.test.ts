import { generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { Identity } from './roles.js';
import { createTokenVerifier } from './tokens.js';
import { cacheVerifiedTokens } from './verified-tokens.js';

const settings = { issuer: 'test-issuer', audience: 'test-audience' };
const { privateKey, publicKey } = await generateKeyPair('ES256');
const sign = (sid: string, expiresInS: number, nowS = Math.floor(Date.now() / 1000)) =>
  new SignJWT({ role: 'VIEWER', sid })
    .setProtectedHeader({ alg: 'ES256' })
    .setSubject('u1')
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt(nowS)
    .setExpirationTime(nowS + expiresInS)
    .sign(privateKey);

/** A verifier that counts the signature checks it does. */
function counting() {
  const verify = createTokenVerifier(publicKey, { ...settings, cache: false });
  const calls: string[] = [];
  return {
    calls,
    verify: async (token: string): Promise<Identity> => {
      calls.push(token);
      return verify(token);
    },
  };
}

describe('verified-token cache', () => {
  it('checks a token once, then answers from memory with the same identity', async () => {
    const { calls, verify } = counting();
    const cached = cacheVerifiedTokens(verify);
    const token = await sign('s1', 900);
    const first = await cached(token);
    expect(await cached(token)).toEqual(first);
    expect(first.sessionId).toBe('s1');
    expect(calls).toHaveLength(1);
  });

  it('checks again once the token expires or the maximum age passes', async () => {
    let now = Date.now();
    const { calls, verify } = counting();
    const cached = cacheVerifiedTokens(verify, { maxAgeMs: 60_000, now: () => now });
    const short = await sign('s2', 30);
    await cached(short);
    now += 31_000;
    // Past exp the cache does not answer: the full check runs again (and would refuse a real expiry).
    await cached(short);
    const long = await sign('s3', 900, Math.floor(now / 1000));
    await cached(long);
    now += 61_000;
    await cached(long);
    expect(calls).toEqual([short, short, long, long]);
  });

  it('never keeps a refusal, and a token changed in any byte is checked afresh', async () => {
    const { calls, verify } = counting();
    const cached = cacheVerifiedTokens(verify);
    const token = await sign('s4', 900);
    await cached(token);
    const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    await expect(cached(forged)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    await expect(cached(forged)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    expect(calls).toEqual([token, forged, forged]);
  });

  it('holds at most maxEntries tokens, dropping the least recently used', async () => {
    const { calls, verify } = counting();
    const cached = cacheVerifiedTokens(verify, { maxEntries: 2 });
    const [a, b, c] = await Promise.all([sign('a', 900), sign('b', 900), sign('c', 900)]);
    await cached(a);
    await cached(b);
    await cached(a); // a is now the most recently used
    await cached(c); // evicts b
    await cached(a);
    await cached(b);
    expect(calls).toEqual([a, b, c, b]);
  });
});
