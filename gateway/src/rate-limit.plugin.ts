import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import type { Logger } from '@stockgraph/logger';
import { type DocumentNode, GraphQLError, type GraphQLSchema, validate } from 'graphql';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { RedisClient } from './redis.js';
import { rootFields } from './root-fields.js';
import { SharedBudget } from './shared-budget.js';

export interface RateLimitSettings {
  windowSeconds: number;
  /** Estimated cost points per caller per window. */
  points: number;
  /** `login` / `refreshSession` / `changePassword` fields per client address per window. */
  signIn: number;
  /** APQ registrations per caller per window. */
  apqRegistrations: number;
}

export interface RateLimitOptions<TContext extends BaseContext> extends RateLimitSettings {
  /** Shared by every replica when given; each limiter falls back to this process's memory while it is unreachable. */
  redis?: RedisClient;
  keyPrefix: string;
  /** The signed-in user's id, if any: budgets follow the user across addresses and replicas. */
  userId: (context: TContext) => string | undefined;
  clientAddress: (context: TContext) => string;
  logger: Logger;
}

/** A rate-limit check slower than this is decided by this process's own counters. */
const REDIS_TIMEOUT_MS = 250;

/** Mutation fields that spend the per-address sign-in budget, each time they appear. */
const SIGN_IN_FIELDS = new Set(['login', 'refreshSession', 'changePassword']);
/**
 * Mutation fields that hash or verify a password (argon2: tens of milliseconds of CPU and 19 MiB each):
 * one per operation, so no single request can queue seconds of hashing in front of honest sign-ins.
 */
const PASSWORD_FIELDS = new Set(['login', 'changePassword', 'createUser']);

interface Budget {
  name: string;
  limiter: Pick<RateLimiterAbstract, 'consume'>;
  limit: number;
}

interface Store {
  redis?: RedisClient;
  keyPrefix: string;
  windowSeconds: number;
}

/**
 * A budget checked in Redis on every spend: sign-ins and APQ registrations are rare and their budgets
 * small, so they are counted exactly across replicas.
 */
function budget(name: string, limit: number, options: Store): Budget {
  const duration = options.windowSeconds;
  // Per process: what holds while the shared store is away (and the only store without Redis).
  const memory = new RateLimiterMemory({ keyPrefix: name, points: limit, duration });
  if (!options.redis) return { name, limiter: memory, limit };
  // A Redis that stops answering (not just one that is down) must not hold requests up either.
  const shared = new RLWrapperTimeouts({
    limiter: new RateLimiterRedis({
      storeClient: options.redis,
      useRedisPackage: true,
      rejectIfRedisNotReady: true,
      keyPrefix: `${options.keyPrefix}rl:${name}`,
      points: limit,
      duration,
      insuranceLimiter: memory,
    }),
    insuranceLimiter: memory,
    timeoutMs: REDIS_TIMEOUT_MS,
  });
  return { name, limiter: shared, limit };
}

/**
 * The cost budget, spent by every operation: decided in this process from what Redis last said, and
 * written to Redis in batches (SharedBudget), so an operation costs no Redis round trip.
 */
function costBudget(limit: number, options: Store, logger: Logger): Budget {
  const redis = options.redis;
  const limiter = new SharedBudget(limit, options.windowSeconds, redis, `${options.keyPrefix}rl:cost`, (err) =>
    logger.debug({ err }, 'cost budget not written to Redis; counted here and sent with the next write'),
  );
  return { name: 'cost', limiter, limit };
}

const costs = new WeakMap<DocumentNode, number>();

/**
 * The operation's estimated cost, computed by graphql-armor's own cost rule (objects 2, scalars 1,
 * ×1.5 per level, × `first`) so the budget is counted in the unit MAX_QUERY_COST caps. Apollo reuses
 * the parsed document of a repeated operation, so each document is costed once.
 */
export function estimatedCost(schema: GraphQLSchema, document: DocumentNode): number {
  const known = costs.get(document);
  if (known !== undefined) return known;
  let cost = 0;
  const rule = costLimitRule({
    maxCost: Number.POSITIVE_INFINITY,
    onAccept: [(_context, details: { n: number }) => (cost = Math.max(cost, details.n))],
  });
  validate(schema, document, [rule]);
  costs.set(document, cost);
  return cost;
}

const countOf = (names: string[], fields: ReadonlySet<string>) => names.filter((name) => fields.has(name)).length;

function headers(limit: number, result: RateLimiterRes, refused: boolean): Map<string, string> {
  const reset = Math.max(1, Math.ceil(result.msBeforeNext / 1000));
  // The IETF draft's names (draft-ietf-httpapi-ratelimit-headers), and Retry-After on a refusal.
  const map = new Map([
    ['ratelimit-limit', String(limit)],
    ['ratelimit-remaining', String(Math.max(0, result.remainingPoints))],
    ['ratelimit-reset', String(reset)],
  ]);
  if (refused) map.set('retry-after', String(reset));
  return map;
}

/**
 * Rate limits at the edge, before planning: every operation spends its estimated cost from the
 * caller's budget (the user when signed in, else the client address), sign-in fields spend from a
 * stricter per-address budget, and APQ registrations from their own. With Redis the budgets are
 * shared by every gateway replica; while Redis is unreachable each replica enforces them alone.
 */
export function rateLimitPlugin<TContext extends BaseContext>(
  options: RateLimitOptions<TContext>,
): ApolloServerPlugin<TContext> {
  return rateLimits(options).plugin;
}

export interface RateLimits<TContext extends BaseContext> {
  plugin: ApolloServerPlugin<TContext>;
  /**
   * Spends `points` of the caller's cost budget outside an HTTP operation (a subscription as it starts,
   * the events it replays); rejects with RATE_LIMITED when the budget is spent.
   */
  chargeCost(context: TContext, points: number): Promise<void>;
}

export function rateLimits<TContext extends BaseContext>(options: RateLimitOptions<TContext>): RateLimits<TContext> {
  const cost = costBudget(options.points, options, options.logger);
  const signIn = budget('sign-in', options.signIn, options);
  const registrations = budget('apq', options.apqRegistrations, options);

  async function spend(which: Budget, key: string, points: number): Promise<RateLimiterRes> {
    try {
      return await which.limiter.consume(key, Math.min(points, which.limit + 1));
    } catch (outcome) {
      if (outcome instanceof RateLimiterRes) {
        throw new RateLimitedResponse(which, outcome);
      }
      // Neither Redis nor memory could count: serve rather than refuse everyone.
      options.logger.warn({ err: outcome, budget: which.name }, 'rate limit not checked');
      return new RateLimiterRes(which.limit, 0, 0);
    }
  }

  const callerOf = (context: TContext) => {
    const userId = options.userId(context);
    return userId ? `user:${userId}` : `ip:${options.clientAddress(context)}`;
  };
  const refusal = (error: RateLimitedResponse) => {
    const retryAfterSeconds = Math.max(1, Math.ceil(error.result.msBeforeNext / 1000));
    return new GraphQLError(`Too many requests (${error.budget.name} budget); retry in ${retryAfterSeconds} s`, {
      extensions: {
        code: 'RATE_LIMITED',
        retryAfterSeconds,
        http: { status: 429, headers: headers(error.budget.limit, error.result, true) },
      },
    });
  };

  const plugin: ApolloServerPlugin<TContext> = {
    async requestDidStart({ request }) {
      // Read before the persisted-operations plugin fills in the text of a hash-only request.
      const persisted = request.extensions?.persistedQuery !== undefined;
      const registration = persisted && typeof request.query === 'string';
      return {
        async didResolveOperation({ contextValue, document, operation, schema, response }) {
          // No operation to run: the request is refused as a client error without any work.
          if (!operation) return;
          const address = `ip:${options.clientAddress(contextValue)}`;
          const caller = callerOf(contextValue);
          const names =
            operation.operation === 'mutation'
              ? rootFields(operation.selectionSet, document).map((f) => f.name.value)
              : [];
          const passwordChecks = countOf(names, PASSWORD_FIELDS);
          if (passwordChecks > 1)
            throw new GraphQLError(
              `An operation may check or set one password; this one asks for ${passwordChecks} (send them one at a time)`,
              { extensions: { code: 'TOO_MANY_PASSWORD_CHECKS', http: { status: 400 } } },
            );
          try {
            const attempts = countOf(names, SIGN_IN_FIELDS);
            if (attempts > 0) await spend(signIn, address, attempts);
            if (registration) await spend(registrations, caller, 1);
            const result = await spend(cost, caller, Math.max(1, Math.ceil(estimatedCost(schema, document))));
            for (const [name, value] of headers(cost.limit, result, false)) response.http.headers.set(name, value);
          } catch (error) {
            if (!(error instanceof RateLimitedResponse)) throw error;
            throw refusal(error);
          }
        },
      };
    },
  };
  return {
    plugin,
    async chargeCost(context, points) {
      try {
        await spend(cost, callerOf(context), Math.max(1, Math.ceil(points)));
      } catch (error) {
        if (!(error instanceof RateLimitedResponse)) throw error;
        throw refusal(error);
      }
    },
  };
}

class RateLimitedResponse extends Error {
  constructor(
    readonly budget: Budget,
    readonly result: RateLimiterRes,
  ) {
    super(`rate limited: ${budget.name}`);
  }
}
