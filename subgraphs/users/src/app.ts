import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bearerToken, createTokenVerifier, localRevocations } from '@stockgraph/auth';
import { UnauthenticatedError } from '@stockgraph/graphql-kit';
import { createLogger, type Logger } from '@stockgraph/logger';
import {
  redisRevocations,
  startSubgraph,
  subgraphService,
  type SubgraphDefinition,
  type SubgraphRuntime,
} from '@stockgraph/server';
import type { Request } from 'express';
import { parse } from 'graphql';
import { Counter, type Registry } from 'prom-client';
import { createContext, type Context } from './context.js';
import * as dbSchema from './db/schema.js';
import { seedDemoData } from './db/seed.js';
import { SessionRepository } from './db/session.repository.js';
import type { AttemptOutcome } from './domain/sign-in-throttle.js';
import { loadSigningKeys } from './domain/signing-keys.js';
import { UserService } from './domain/user.service.js';
import { parseUsersEnv, type UsersEnv } from './env.js';
import { policies } from './policies.js';
import { resolvers } from './resolvers/index.js';

export { DEFAULT_PORT, parseUsersEnv } from './env.js';
// The password hashing the service uses, for tools that write users (the scale bench's generator).
export { hashPassword } from './domain/passwords.js';

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

type Bootstrap = NonNullable<SubgraphDefinition<typeof dbSchema, Context>['bootstrap']>;

/**
 * The end client's address: the gateway forwards it in X-Forwarded-For, which Express believes only
 * from peers TRUST_PROXY names (the gateway's network); a direct caller is its own client.
 */
function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

function definition(bootstrap?: Bootstrap): SubgraphDefinition<typeof dbSchema, Context> {
  return {
    name: 'users',
    typeDefs,
    resolvers,
    dbSchema,
    pgSchema: 'users',
    migrationsFolder: fileURLToPath(new URL('./db/migrations', import.meta.url)),
    seed: seedDemoData,
    policies,
    ...(bootstrap ? { bootstrap } : {}),
  };
}

/** For tools that only migrate (db:migrate, create-admin): no keys, nothing to serve. */
export const usersSubgraph = definition();

/** Sign-in and password-check outcomes, registered on the service's own registry once it exists. */
function attemptCounters() {
  const counter = (name: string, help: string) =>
    new Counter({ name, help, labelNames: ['outcome'] as const, registers: [] });
  const counters = {
    sign_in: counter(
      'stockgraph_sign_in_attempts_total',
      'Sign-in attempts by outcome (success, invalid credentials, refused while locked out)',
    ),
    password_change: counter(
      'stockgraph_password_change_attempts_total',
      'Checks of the current password by changePassword, by outcome',
    ),
  };
  return {
    count: (kind: keyof typeof counters, outcome: AttemptOutcome) => counters[kind].inc({ outcome }),
    register: (registry: Registry) => Object.values(counters).forEach((c) => registry.registerMetric(c)),
  };
}

/** Ended sessions and used refresh tokens are kept this long after they end, for support and audit. */
const ENDED_RETENTION_MS = 7 * 86_400_000;
const PURGE_EVERY_MS = 3600_000;
const PURGE_BATCH = 5000;

/**
 * Sign-in counts and locks that ran out, and sessions and refresh tokens ended a week ago: nothing else
 * removes them, and the tables grew with every sign-in, refresh and guess. A batch an hour (and one a
 * minute after start), every replica; each batch is one short statement per table.
 */
function purgeEndedEvery(users: UserService, logger: Logger) {
  const purge = async () => {
    const removed = await users.purgeEnded(ENDED_RETENTION_MS, PURGE_BATCH);
    if (removed > 0) logger.info({ removed }, 'purged ended sessions, refresh tokens and sign-in counts');
  };
  const run = () => void purge().catch((error: unknown) => logger.warn({ err: error }, 'sign-in data purge failed'));
  const first = setTimeout(run, 60_000);
  const timer = setInterval(run, PURGE_EVERY_MS);
  first.unref();
  timer.unref();
  return {
    stop: () => {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}

/**
 * The service the bootstrap hook creates, for the two HTTP entry points that sit outside GraphQL (the
 * token verifier and the gateway's session check). They are wired before the database exists and
 * called only after the hook ran, so they wait on this promise instead of reading a variable set later.
 */
function startedService() {
  let resolve: (service: UserService) => void = () => {};
  const promise = new Promise<UserService>((r) => (resolve = r));
  return { promise, resolve: (service: UserService) => resolve(service) };
}

export async function startUsers(runtime: Omit<SubgraphRuntime, 'env'> & { env: UsersEnv }) {
  const { env } = runtime;
  const keys = await loadSigningKeys(env.JWT_PRIVATE_KEY, env.JWT_KEY_ID);
  const tokenSettings = { issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE };
  // The users service signs the tokens, so it verifies them with its own key instead of its JWKS.
  const verify = createTokenVerifier(keys.publicKey, tokenSettings);
  const settings = {
    ...tokenSettings,
    accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
    loginMaxFailures: env.LOGIN_MAX_FAILURES,
    loginLockSeconds: env.LOGIN_LOCK_SECONDS,
  };
  const logger = runtime.logger ?? createLogger('users', env.LOG_LEVEL);
  // The users service writes the revocation list every other service reads (see docs/operators/security.md).
  const revocations =
    runtime.revocations ?? (env.REDIS_URL ? await redisRevocations(env, env.REDIS_URL, logger) : localRevocations());
  const revoked = (ids: readonly string[]) => revocations.revoke(ids, env.ACCESS_TOKEN_TTL_SECONDS);
  const attempts = attemptCounters();
  const started = startedService();
  const running = await startSubgraph(
    definition((db, services) => {
      const users = new UserService(db, services.transact, keys, settings, { revoked, attempt: attempts.count });
      started.resolve(users);
      const housekeeping = purgeEndedEvery(users, services.logger);
      return {
        context: (identity, req) => createContext(db, identity, users, clientAddress(req)),
        stop: () => housekeeping.stop(),
      };
    }),
    {
      ...runtime,
      logger,
      revocations,
      prepare: async (db, registry) => {
        attempts.register(registry);
        // A revocation committed just before a crash may never have reached the list: publish again
        // every session ended within an access token's lifetime (the list ignores duplicates).
        const since = new Date(Date.now() - env.ACCESS_TOKEN_TTL_SECONDS * 1000);
        await revoked(await new SessionRepository(db).revokedSince(since));
      },
      verifier: async (token) => {
        const identity = await verify(token);
        if (!(await (await started.promise).isSessionLive(identity)))
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
            const live = await (await started.promise).isSessionLive(identity);
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
    /** The account service the running subgraph uses (its bootstrap has run by now). */
    users: await started.promise,
    stop: async () => {
      await running.stop();
      if (!runtime.revocations) await revocations.close();
    },
  };
}

/** How the launcher and the tools load this subgraph (see @stockgraph/registry). */
export const service = subgraphService({ definition: usersSubgraph, parseEnv: parseUsersEnv, start: startUsers });
