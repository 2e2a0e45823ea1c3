import { createHash } from 'node:crypto';
import { HeaderMap, type ApolloServerPlugin, type BaseContext, type GraphQLResponse } from '@apollo/server';
import type { Identity } from '@stockgraph/auth';
import {
  Kind,
  printSchema,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { Counter, type Registry } from 'prom-client';
import { entityTags } from './entities.js';
import { tagsOfMutation } from './invalidation.js';
import { planOperation, type CachePlan, type TypePolicy } from './policy.js';
import type { ResponseStore } from './store.js';

export interface ResponseCacheContext extends BaseContext {
  identity: Pick<Identity, 'userId' | 'role' | 'scopes'> | null;
  /** The gateway's own queries for a subscription's events: neither served from nor kept in the cache. */
  derived?: boolean;
}

export interface ResponseCacheSettings {
  /** Serve and keep answers (RESPONSE_CACHE). */
  cache: boolean;
  /** Identical queries in flight share one execution (QUERY_DEDUP). */
  dedup: boolean;
  policies: ReadonlyMap<string, TypePolicy>;
  /** Answers larger than this (JSON characters) are not kept. */
  maxEntryBytes: number;
  store: ResponseStore;
}

interface Planned {
  plan: CachePlan;
  fragments: Record<string, FragmentDefinitionNode>;
}

const PLANS_KEPT = 2000;
/**
 * How long an identical query waits for the one in flight before asking for itself: longer than any
 * answer takes (SUBGRAPH_TIMEOUT_MS bounds each fetch), only there so that nothing could ever wait forever.
 */
const LEADER_WAIT_MS = 60_000;

function withinLeaderWait<T>(leader: Promise<T | null>): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), LEADER_WAIT_MS)));
  return Promise.race([leader, waited]).finally(() => clearTimeout(timer));
}

export function responseCacheMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'stockgraph_response_cache_requests_total',
      help: 'Queries at the response cache, by result: hit (local or shared layer), miss, collapsed (shared an identical query in flight), bypass (no cache policy), unavailable (cache Redis away: answered uncached)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    invalidations: new Counter({
      name: 'stockgraph_response_cache_invalidations_total',
      help: 'Cache tags invalidated, by source: a subgraph event, a mutation answered here, another replica',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
  };
}

export type ResponseCacheMetrics = ReturnType<typeof responseCacheMetrics>;

/**
 * The gateway's response cache and in-flight deduplication for queries. An answer is found by its
 * operation, variables and who may see it (policy.ts: the role and scopes, or the user); only
 * answers without errors are kept, with the entities they hold as tags (entities.ts) so a change
 * drops them (invalidation.ts, store.ts). Runs after authorization (didResolveOperation), so a
 * refused caller never reaches it, and a caller is always charged for what it asked.
 */
export function responseCachePlugin<TContext extends ResponseCacheContext>(
  settings: ResponseCacheSettings,
  metrics: ResponseCacheMetrics,
): ApolloServerPlugin<TContext> {
  const { store, policies } = settings;
  const schemaIds = new WeakMap<GraphQLSchema, string>();
  const plans = new Map<string, Planned>();
  const inFlight = new Map<string, Promise<Record<string, unknown> | null>>();

  function schemaId(schema: GraphQLSchema): string {
    let id = schemaIds.get(schema);
    if (!id) schemaIds.set(schema, (id = sha256(printSchema(schema)).slice(0, 16)));
    return id;
  }

  function planFor(
    schema: GraphQLSchema,
    queryHash: string,
    document: DocumentNode,
    operation: OperationDefinitionNode,
  ) {
    const id = `${schemaId(schema)}:${queryHash}:${operation.name?.value ?? ''}`;
    let planned = plans.get(id);
    if (!planned) {
      if (plans.size >= PLANS_KEPT) plans.clear();
      planned = { plan: planOperation(schema, document, operation, policies), fragments: fragmentsIn(document) };
      plans.set(id, planned);
    }
    return planned;
  }

  return {
    async requestDidStart({ contextValue }) {
      if (contextValue.derived) return;
      let key: string | null = null;
      let planned: Planned | null = null;
      let started = 0;
      let lead: ((data: Record<string, unknown> | null) => void) | undefined;
      let cacheable = false;
      /** Answered here (a hit, or an identical query's answer): nothing to keep or count again. */
      let answered = false;
      let result: 'miss' | 'unavailable' = 'miss';
      return {
        async responseForOperation({ schema, queryHash: hash, source, document, operation, request }) {
          if (operation.operation !== 'query') return null;
          const queryHash = hash ?? sha256(source);
          planned = planFor(schema, queryHash, document, operation);
          const { plan } = planned;
          cacheable = settings.cache && plan.cacheable;
          if (!cacheable && !settings.dedup) return null;
          // Uncacheable answers are shared in flight only between requests of the same user.
          const scope = plan.cacheable ? plan.scope : 'user';
          key = sha256(
            JSON.stringify([
              schemaId(schema),
              queryHash,
              operation.name?.value ?? null,
              request.variables ?? {},
              visibility(contextValue.identity, scope),
            ]),
          );
          started = Date.now();
          if (cacheable) {
            const found = await store.get(key);
            if (found === 'unavailable') result = 'unavailable';
            else if (found) {
              answered = true;
              metrics.requests.inc({ result: `hit_${found.layer}` });
              const age = Math.max(0, Math.floor((started - found.answer.since) / 1000));
              const ttl = Math.max(0, Math.ceil((found.answer.expiresAt - started) / 1000));
              return answer(found.answer.data, `hit; ttl=${ttl}`, age);
            }
          }
          if (settings.dedup) {
            const leader = inFlight.get(key);
            if (leader) {
              const data = await withinLeaderWait(leader);
              if (data) {
                answered = true;
                metrics.requests.inc({ result: 'collapsed' });
                return answer(data, 'fwd=miss; collapsed', 0);
              }
              // The leader failed: this request asks for itself (its errors are its own to see).
              return null;
            }
            const shared = new Promise<Record<string, unknown> | null>((resolve) => (lead = resolve));
            inFlight.set(key, shared);
          }
          return null;
        },

        async willSendResponse({ response, schema, document, operation }) {
          const body = response.body.kind === 'single' ? response.body.singleResult : null;
          if (settings.cache && operation?.operation === 'mutation' && body?.data && schema && document) {
            // What the mutation changed leaves the cache before its answer does (a gateway with the
            // cache off leaves the cache alone: the subgraphs' events still reach the others).
            const changed = entityTags(schema, operation, fragmentsIn(document), body.data);
            await store.invalidate(tagsOfMutation(changed), 'mutation');
            return;
          }
          if (!key || !planned) return;
          const data = body && !body.errors?.length ? (body.data ?? null) : null;
          lead?.(data);
          if (lead) inFlight.delete(key);
          lead = undefined;
          if (answered) return;
          if (!cacheable || !operation || !schema) {
            if (settings.cache && !planned.plan.cacheable) metrics.requests.inc({ result: 'bypass' });
            return;
          }
          metrics.requests.inc({ result });
          const { plan } = planned;
          let stored = false;
          if (data && result === 'miss' && plan.cacheable) {
            const tags = new Set([...plan.typeTags, ...entityTags(schema, operation, planned.fragments, data)]);
            stored = await store.set(
              key,
              { data, since: started, expiresAt: started + plan.maxAgeSeconds * 1000, tags: [...tags] },
              settings.maxEntryBytes,
            );
          }
          response.http.headers.set('cache-status', `stockgraph; fwd=miss${stored ? '; stored' : ''}`);
        },
      };
    },
  };
}

/** Who may see an answer: per role and scopes, or per user when a field depends on who asks. */
function visibility(identity: ResponseCacheContext['identity'], scope: 'role' | 'user'): string {
  if (!identity) return 'anonymous';
  const role = `${identity.role}:${[...identity.scopes].sort().join(' ')}`;
  return scope === 'user' ? `user:${identity.userId}:${role}` : `role:${role}`;
}

/** A cached or shared answer: private (it depends on the caller's token), and asked for again each time. */
function answer(data: Record<string, unknown>, status: string, age: number): GraphQLResponse {
  return {
    http: {
      status: undefined,
      headers: new HeaderMap([
        ['cache-status', `stockgraph; ${status}`],
        ['age', String(age)],
        ['cache-control', 'private, no-cache'],
      ]),
    },
    body: { kind: 'single', singleResult: { data } },
  };
}

function fragmentsIn(document: DocumentNode): Record<string, FragmentDefinitionNode> {
  return Object.fromEntries(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
