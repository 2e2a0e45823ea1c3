import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createTokenVerifier, TOKEN_ALGORITHM, type Role, type TokenVerifier } from '@stockgraph/auth';
import { parseSubgraphEnv, type SubgraphEnv } from '@stockgraph/config';
import { SignJWT } from 'jose';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.js';

export const TEST_ISSUER = 'stockgraph-users';
export const TEST_AUDIENCE = 'stockgraph';

/** A signing key for one test file: services verify with its public half, tests sign with it. */
export function createTestKeys() {
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const privateKey = createPrivateKey(pem);
  const verifier = createTokenVerifier(createPublicKey(privateKey), { issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
  /** `Authorization` headers of a valid access token for this user and role. */
  const headers = async (role: Role, userId = '0190b3c4-0000-7000-8000-0000000000aa') => {
    const token = await new SignJWT({ role, sid: '0190b3c4-0000-7000-8000-0000000000bb' })
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: 'test' })
      .setSubject(userId)
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    return { authorization: `Bearer ${token}` };
  };
  return { pem, verifier, headers };
}

/**
 * Starts one subgraph in the test process on a fresh PostgreSQL database with the demo data, for
 * the whole test file, and removes both afterwards. Read `.current` inside tests; `.as(role)` gives
 * headers with a token the subgraph accepts.
 */
export function useSubgraph<
  S extends { url: string; stop(): Promise<void> },
  E extends Readonly<SubgraphEnv> = Readonly<SubgraphEnv>,
>(
  name: string,
  start: (runtime: { env: E; verifier?: TokenVerifier }) => Promise<S>,
  parse: (source: Record<string, string>) => E = (source) => parseSubgraphEnv(name, 0, source) as E,
): { current: S; as: ReturnType<typeof createTestKeys>['headers'] } {
  const keys = createTestKeys();
  const holder = { as: keys.headers } as { current: S; as: typeof keys.headers };
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(name);
    const env = parse({
      DATABASE_URL: database.url,
      SEED_DEMO_DATA: 'true',
      LOG_LEVEL: 'silent',
      PORT: '0',
      JWT_PRIVATE_KEY: keys.pem,
    });
    holder.current = await start({ env, verifier: keys.verifier });
  });
  afterAll(async () => {
    await holder.current?.stop();
    await database?.drop();
  });
  return holder;
}
