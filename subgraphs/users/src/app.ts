import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { atLeast, bearerToken, createTokenVerifier, localRevocations, type Policy } from '@stockgraph/auth';
import { UnauthenticatedError } from '@stockgraph/graphql-kit';
import { redisRevocations, startSubgraph, type SubgraphDefinition, type SubgraphRuntime } from '@stockgraph/server';
import { createLogger } from '@stockgraph/logger';
import { Counter } from 'prom-client';
import type { Request } from 'express';
import { parse } from 'graphql';
import { Accounts } from './accounts.js';
import { SessionRepository } from './db/session.repository.js';
import { createContext, type Context } from './context.js';
import * as dbSchema from './db/schema.js';
import { seedDemoData } from './db/seed.js';
import type { UsersEnv } from './env.js';
import { loadSigningKeys } from './keys.js';
import { resolvers } from './resolvers/index.js';

export { DEFAULT_PORT, parseUsersEnv } from './env.js';

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

/**
 * The end client's address: the gateway forwards it in X-Forwarded-For, which Express believes only
 * from peers TRUST_PROXY names (the gateway's network); a direct caller is its own client.
 */
function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

const policies: Record<string, Policy<Context>> = {
  'self-or-admin': (user: { id: string }, _args, { identity }) =>
    !!identity && (identity.userId === user.id || atLeast(identity.role, 'ADMIN')),
};

function definition(accounts: () => Accounts): SubgraphDefinition<typeof dbSchema, Context> {
  return {
    name: 'users',
    typeDefs,
    resolvers,
    dbSchema,
    pgSchema: 'users',
    migrationsFolder: fileURLToPath(new URL('./db/migrations', import.meta.url)),
    seed: seedDemoData,
    createContext: (db, identity, req) => createContext(db, identity, accounts(), clientAddress(req)),
    policies,
  };
}

/** For tools that only migrate (db:migrate): no keys needed. */
export const usersSubgraph = definition(() => {
  throw new Error('usersSubgraph is for migrations; use startUsers to serve');
});

export async function startUsers(runtime: Omit<SubgraphRuntime, 'env'> & { env: UsersEnv }) {
  const { env } = runtime;
  const keys = await loadSigningKeys(env.JWT_PRIVATE_KEY, env.JWT_KEY_ID);
  const tokenSettings = { issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE };
  // The users service signs the tokens, so it verifies them with its own key instead of its JWKS.
  const verify = createTokenVerifier(keys.publicKey, tokenSettings);
  let accounts: Accounts | undefined;
  const settings = {
    ...tokenSettings,
    accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
    loginMaxFailures: env.LOGIN_MAX_FAILURES,
    loginLockSeconds: env.LOGIN_LOCK_SECONDS,
  };
  const logger = runtime.logger ?? createLogger('users', env.LOG_LEVEL);
  // The users service writes the revocation list every other service reads (see README, Security).
  const revocations =
    runtime.revocations ?? (env.REDIS_URL ? await redisRevocations(env, env.REDIS_URL, logger) : localRevocations());
  const revoked = (ids: readonly string[]) => revocations.revoke(ids, env.ACCESS_TOKEN_TTL_SECONDS);
  const running = await startSubgraph(
    definition(() => accounts!),
    {
      ...runtime,
      logger,
      revocations,
      prepare: async (db, registry) => {
        const attempts = {
          sign_in: new Counter({
            name: 'stockgraph_sign_in_attempts_total',
            help: 'Sign-in attempts by outcome (success, invalid credentials, refused while locked out)',
            labelNames: ['outcome'] as const,
            registers: [registry],
          }),
          password_change: new Counter({
            name: 'stockgraph_password_change_attempts_total',
            help: 'Checks of the current password by changePassword, by outcome',
            labelNames: ['outcome'] as const,
            registers: [registry],
          }),
        };
        const attempt = (kind: keyof typeof attempts, outcome: string) => attempts[kind].inc({ outcome });
        accounts = new Accounts(db, keys, settings, { revoked, attempt });
        // A revocation committed just before a crash may never have reached the list: publish again
        // every session ended within an access token's lifetime (the list ignores duplicates).
        const since = new Date(Date.now() - env.ACCESS_TOKEN_TTL_SECONDS * 1000);
        await revoked(await new SessionRepository(db).revokedSince(since));
      },
      verifier: async (token) => {
        const identity = await verify(token);
        if (!(await accounts!.isSessionLive(identity)))
          throw new UnauthenticatedError('Session ended; sign in again', { reason: 'SESSION_REVOKED' });
        return identity;
      },
      routes: (app) => {
        app.get('/.well-known/jwks.json', (_req, res) => {
          res.set('cache-control', 'public, max-age=300').json({ keys: [keys.jwk] });
        });
        // Token introspection for the gateway: is this token's session still live (not logged out,
        // not revoked, user still active)? Signature and claims are checked here too.
        app.get('/session', async (req, res) => {
          try {
            const token = bearerToken(req.headers.authorization);
            if (!token) throw new UnauthenticatedError();
            const identity = await verify(token);
            const live = await accounts!.isSessionLive(identity);
            res
              .status(live ? 200 : 401)
              .json(live ? { active: true, userId: identity.userId, role: identity.role } : { active: false });
          } catch {
            res.status(401).json({ active: false });
          }
        });
      },
    },
  );
  return {
    ...running,
    stop: async () => {
      await running.stop();
      if (!runtime.revocations) await revocations.close();
    },
  };
}
