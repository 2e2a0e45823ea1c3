import { createRedisRevocations, localRevocations, type RevocationList, type TokenVerifier } from '@stockgraph/auth';
import type { SubgraphEnv } from '@stockgraph/config';
import { UnauthenticatedError } from '@stockgraph/graphql-kit';
import type { Logger } from '@stockgraph/logger';

/** The revocation list in Redis, as SESSION_REVOCATION_KEY and REVOCATION_REFRESH_MS say. */
export function redisRevocations(
  env: { SESSION_REVOCATION_KEY: string; REVOCATION_REFRESH_MS: number },
  url: string,
  logger: Logger,
): Promise<RevocationList> {
  return createRedisRevocations({ url, key: env.SESSION_REVOCATION_KEY, refreshMs: env.REVOCATION_REFRESH_MS, logger });
}

/**
 * A subgraph's side of revocation: every verified token's session is looked up in the revocation
 * list (a Set in memory, refreshed from Redis every REVOCATION_REFRESH_MS). With Redis unreachable the
 * last list read stays in force and a warning says how old it is: tokens live 15 minutes at most, and
 * refusing everyone would turn a Redis outage into a total one.
 */
export async function revocationCheck(env: Readonly<SubgraphEnv>, given: RevocationList | undefined, logger: Logger) {
  const owned = !given;
  const list = given ?? (env.REDIS_URL ? await redisRevocations(env, env.REDIS_URL, logger) : localRevocations());
  if (!given && !env.REDIS_URL) {
    logger.warn('no REDIS_URL: only sessions revoked in this process are refused before their tokens expire');
  }
  let warnedAt = 0;
  return {
    list,
    wrap:
      (verify: TokenVerifier): TokenVerifier =>
      async (token) => {
        const identity = await verify(token);
        const age = list.ageMs();
        if (age > 10 * env.REVOCATION_REFRESH_MS && Date.now() - warnedAt > 60_000) {
          warnedAt = Date.now();
          const ageMs = Number.isFinite(age) ? age : null;
          logger.warn({ ageMs }, 'revocation list is stale; refusing only the sessions it knew of');
        }
        if (list.isRevoked(identity.sessionId)) {
          throw new UnauthenticatedError('Session ended; sign in again', { reason: 'SESSION_REVOKED' });
        }
        return identity;
      },
    stop: async () => {
      if (owned) await list.close();
    },
  };
}
