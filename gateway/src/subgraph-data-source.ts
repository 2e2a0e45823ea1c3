import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { context, propagation, SpanKind } from '@opentelemetry/api';
import type { Logger } from '@stockgraph/logger';
import {
  BreakerOpenError,
  createBreaker,
  currentRequestId,
  errorCodeLabel,
  READ_AFTER_HEADER,
  WRITTEN_LSN_HEADER,
  type Breaker,
  type BreakerState,
} from '@stockgraph/server';
import { inSpan, isTracing } from '@stockgraph/telemetry';
import { parse } from 'graphql';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { GatewayContext } from './context.js';
import type { WriteMarks } from './read-your-writes.js';
import { HeaderMap } from './header-map.js';
import { createSubgraphFetcher } from './subgraph-fetcher.js';
import { subgraphHeaders } from './subgraph-headers.js';

export interface SubgraphCallSettings {
  /** A subgraph request (including reading its body) that takes longer is abandoned. */
  timeoutMs: number;
  /** The breaker may open once its window has seen this many requests... */
  breakerMinRequests: number;
  /** ...and at least this share of them (percent) failed. */
  breakerErrorPercent: number;
  /** How long the breaker stays open before one probe request may try again. */
  breakerResetMs: number;
  /** The rolling window the breaker counts in. */
  breakerWindowMs: number;
}

export type SubgraphCallMetrics = ReturnType<typeof createSubgraphCallMetrics>;

/** Labels are subgraph names from the supergraph: a fixed, small set. */
export function createSubgraphCallMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'stockgraph_subgraph_requests_total',
      help: 'Subgraph fetches the gateway made, by outcome: ok, error (answered with errors) or unavailable',
      labelNames: ['subgraph', 'outcome'] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'stockgraph_subgraph_errors_total',
      help: 'GraphQL errors in subgraph answers (SUBGRAPH_UNAVAILABLE included), by extensions.code',
      labelNames: ['subgraph', 'code'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'stockgraph_subgraph_request_duration_seconds',
      help: 'Time for one subgraph fetch, retries and breaker included',
      labelNames: ['subgraph'] as const,
      buckets: [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    timeouts: new Counter({
      name: 'stockgraph_subgraph_timeouts_total',
      help: 'Subgraph requests abandoned after SUBGRAPH_TIMEOUT_MS',
      labelNames: ['subgraph'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'stockgraph_subgraph_retries_total',
      help: 'Subgraph queries sent a second time after a connection error',
      labelNames: ['subgraph'] as const,
      registers: [registry],
    }),
    unavailable: new Counter({
      name: 'stockgraph_subgraph_unavailable_total',
      help: 'Subgraph requests answered SUBGRAPH_UNAVAILABLE, by reason',
      labelNames: ['subgraph', 'reason'] as const,
      registers: [registry],
    }),
    breakerState: new Gauge({
      name: 'stockgraph_subgraph_breaker_state',
      help: 'Circuit breaker per subgraph: 0 closed, 1 half-open (probing), 2 open (failing fast)',
      labelNames: ['subgraph'] as const,
      registers: [registry],
    }),
  };
}

type ProcessOptions = GraphQLDataSourceProcessOptions<GatewayContext>;
type GatewayGraphQLResponse = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;
type Reason = 'timeout' | 'connection' | 'status' | 'breaker_open';

/** stockgraph_subgraph_breaker_state's values. */
const BREAKER_GAUGE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** Raised for every way a subgraph can fail to answer; anything else is an answer. */
class Unavailable extends Error {
  constructor(
    readonly reason: Reason,
    cause: unknown,
  ) {
    super(`subgraph unavailable (${reason})`, { cause });
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function isTimeout(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const name = (e as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return true;
  }
  return false;
}

/** Status codes that mean "not answering now" rather than "answered no". */
const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);

/** The body of a subgraph's non-2xx answer, when it is a GraphQL response (e.g. 400 for bad variables). */
function graphqlBodyOf(error: unknown): GatewayGraphQLResponse | null {
  const body = (error as { extensions?: { response?: { body?: unknown } } }).extensions?.response?.body;
  if (body && typeof body === 'object' && Array.isArray((body as { errors?: unknown }).errors))
    return body as GatewayGraphQLResponse;
  return null;
}

function operationKind(query: string | undefined): 'query' | 'mutation' | 'subscription' {
  const match = /^\s*(query|mutation|subscription)\b/.exec(query ?? '');
  return (match?.[1] as 'mutation' | 'subscription' | undefined) ?? 'query';
}

/**
 * The gateway's way to one subgraph: the caller's credentials forwarded, a deadline on every request,
 * queries retried once after a connection error (a mutation never: it may have run), and a circuit
 * breaker so a subgraph that is down costs callers nothing while it stays down. A subgraph that does
 * not answer becomes SUBGRAPH_UNAVAILABLE errors at the paths it would have filled, so the rest of
 * the response still arrives; a subgraph's own coded errors pass through, whatever its HTTP status.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly breaker: Breaker;

  constructor(
    private readonly name: string,
    url: string,
    private readonly settings: SubgraphCallSettings,
    private readonly metrics: SubgraphCallMetrics,
    private readonly logger: Logger,
    /** The gateway's credential for subgraphs (SUBGRAPH_SHARED_SECRET), if this deployment sets one. */
    private readonly secret?: string,
    /** Callers' last writes, so a caller's reads go where its writes are (read replicas). */
    private readonly writeMarks?: WriteMarks,
  ) {
    super({ url, fetcher: createSubgraphFetcher({ timeoutMs: settings.timeoutMs }).fetcher });
    metrics.breakerState.set({ subgraph: name }, 0);
    this.breaker = createBreaker({
      minCalls: settings.breakerMinRequests,
      failurePercent: settings.breakerErrorPercent,
      openMs: settings.breakerResetMs,
      windowMs: settings.breakerWindowMs,
      // Only a subgraph that does not answer counts against it; an answer with errors is an answer.
      isFailure: (error) => error instanceof Unavailable,
      onStateChange: (state) => {
        metrics.breakerState.set({ subgraph: name }, BREAKER_GAUGE[state]);
        logger.warn({ subgraph: name }, `subgraph circuit breaker ${state}`);
      },
    });
  }

  override async willSendRequest({ request, context: gatewayContext }: ProcessOptions): Promise<void> {
    const headers = subgraphHeaders(gatewayContext, { SUBGRAPH_SHARED_SECRET: this.secret });
    for (const [name, value] of Object.entries(headers)) request.http?.headers.set(name, value);
    // One request id and one trace through every hop: the subgraph keeps the id of the gateway (a
    // trusted proxy to it) and continues the trace from the W3C traceparent of this request's span.
    const requestId = currentRequestId();
    if (requestId) request.http?.headers.set('x-request-id', requestId);
    propagation.inject(context.active(), request.http?.headers, {
      set: (carrier, key, value) => carrier?.set(key, value),
    });
    const readAfter = await this.readAfter(gatewayContext, request.query);
    if (readAfter) request.http?.headers.set(READ_AFTER_HEADER, readAfter);
  }

  /** The caller's last write to this subgraph, for a query: a replica serves it only once it has replayed it. */
  private async readAfter(
    gatewayContext: Partial<Pick<GatewayContext, 'identity' | 'lastWrites'>>,
    query: string | undefined,
  ): Promise<string | undefined> {
    const userId = gatewayContext.identity?.userId;
    if (!this.writeMarks || !userId || operationKind(query) !== 'query') return undefined;
    const lastWrites = await (gatewayContext.lastWrites ??= this.writeMarks.lastWrites(userId));
    return lastWrites === 'unknown' ? 'primary' : lastWrites[this.name];
  }

  /** A mutation's answer carries the primary's WAL position after it: the caller's reads must wait for it. */
  override async didReceiveResponse({
    response,
    context: gatewayContext,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['didReceiveResponse']>>[0]) {
    const lsn = response.http?.headers.get(WRITTEN_LSN_HEADER);
    const userId = gatewayContext.identity?.userId;
    if (lsn && userId && this.writeMarks) {
      // Stored before the client has the answer, so its very next request finds it on any gateway.
      await this.writeMarks.wrote(userId, this.name, lsn);
      gatewayContext.lastWrites = undefined;
    }
    return response;
  }

  override async process(options: ProcessOptions): Promise<GatewayGraphQLResponse> {
    const started = process.hrtime.bigint();
    const record = (codes: string[]) => {
      this.metrics.duration.observe({ subgraph: this.name }, Number(process.hrtime.bigint() - started) / 1e9);
      for (const code of codes) this.metrics.errors.inc({ subgraph: this.name, code });
      const outcome = codes.length === 0 ? 'ok' : codes.includes('SUBGRAPH_UNAVAILABLE') ? 'unavailable' : 'error';
      this.metrics.requests.inc({ subgraph: this.name, outcome });
    };
    try {
      const response = await this.guarded(options);
      record((response.errors ?? []).map((e) => errorCodeLabel(e.extensions?.code)));
      return response;
    } catch (error) {
      record(['INTERNAL_SERVER_ERROR']);
      throw error;
    }
  }

  private async guarded(options: ProcessOptions): Promise<GatewayGraphQLResponse> {
    try {
      return await this.breaker.run(() => this.attempt(options));
    } catch (error) {
      if (error instanceof BreakerOpenError) return this.unavailable(options, 'breaker_open', error);
      if (error instanceof Unavailable) return this.unavailable(options, error.reason, error.cause);
      throw error;
    }
  }

  /** One request, or two for a query whose connection failed before an answer could come back. */
  private async attempt(options: ProcessOptions): Promise<GatewayGraphQLResponse> {
    const retryable = operationKind(options.request.query) === 'query';
    try {
      return await this.once(options);
    } catch (error) {
      if (!(error instanceof Unavailable) || error.reason !== 'connection' || !retryable) throw error;
      this.metrics.retries.inc({ subgraph: this.name });
      return this.once(options);
    }
  }

  /** One HTTP request to the subgraph, a client span of its own when tracing (each retry one more). */
  private once(options: ProcessOptions): Promise<GatewayGraphQLResponse> {
    if (!isTracing()) return this.send(options);
    const url = new URL(this.url ?? '');
    const attributes = {
      'http.request.method': 'POST',
      'server.address': url.hostname,
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      'url.full': url.toString(),
      'stockgraph.subgraph': this.name,
    };
    return inSpan('POST', { kind: SpanKind.CLIENT, attributes }, () => this.send(options));
  }

  private async send(options: ProcessOptions): Promise<GatewayGraphQLResponse> {
    try {
      return await this.exchange(options);
    } catch (error) {
      const answered = graphqlBodyOf(error);
      const status = (error as { extensions?: { response?: { status?: number } } }).extensions?.response?.status;
      if (answered && !UNAVAILABLE_STATUSES.has(status ?? 0)) return answered;
      if (isTimeout(error)) {
        this.metrics.timeouts.inc({ subgraph: this.name });
        throw new Unavailable('timeout', error);
      }
      if (status !== undefined && (status >= 500 || status === 429)) throw new Unavailable('status', error);
      const code = errorCode(error);
      if ((code && CONNECTION_CODES.has(code)) || error instanceof TypeError)
        throw new Unavailable('connection', error);
      throw error;
    }
  }

  /**
   * What RemoteGraphQLDataSource.process does for this gateway (no APQ to subgraphs), without the
   * node-fetch Request it builds for every call only to hand to error hooks nobody here overrides:
   * constructing it parses the URL with the legacy `url.parse` and copies the headers again, about 4%
   * of the gateway's CPU on a simple query in a profile. Headers, hooks, the non-2xx error (its body
   * kept for `graphqlBodyOf`) and the subgraph's Cache-Control hint are as Apollo's.
   */
  private async exchange(options: ProcessOptions): Promise<GatewayGraphQLResponse> {
    const { request, context: gatewayContext } = options;
    const headers = new HeaderMap(request.http?.headers);
    headers.set('content-type', 'application/json');
    request.http = { method: 'POST', url: this.url, headers };
    await this.willSendRequest(options);
    const { http, ...body } = request;
    if (!body.query) throw new Error('Missing query');
    const fetched = await this.fetcher(http.url, {
      method: http.method,
      headers: Object.fromEntries(http.headers),
      body: JSON.stringify(body),
    });
    if (!fetched.ok) throw await this.errorFromResponse(fetched);
    const parsed = await this.parseBody(fetched);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error(`Expected JSON response body, but received: ${String(parsed)}`);
    // An operation's fetch, rather than a health check or a schema load (Apollo does not export the enum).
    const incoming = 'incomingRequestContext' in options ? options : undefined;
    const response = await this.didReceiveResponse({
      response: { ...parsed, http: fetched },
      request,
      context: gatewayContext as GatewayContext,
      pathInIncomingRequest: incoming?.pathInIncomingRequest,
    });
    const policy = incoming?.incomingRequestContext.overallCachePolicy;
    if (this.honorSubgraphCacheControlHeader && policy && 'restrict' in policy)
      policy.restrict(cacheHint(fetched.headers.get('cache-control')));
    return response;
  }

  /**
   * SUBGRAPH_UNAVAILABLE at every path this request would have filled: each entity of an `_entities`
   * request (the gateway maps `_entities.i` to where that entity sits in the response), else each
   * root field it selects.
   */
  private unavailable(options: ProcessOptions, reason: Reason, cause: unknown): GatewayGraphQLResponse {
    this.metrics.unavailable.inc({ subgraph: this.name, reason });
    this.logger.warn({ subgraph: this.name, reason, err: cause }, 'subgraph unavailable');
    const extensions = { code: 'SUBGRAPH_UNAVAILABLE', service: this.name };
    const message = `The ${this.name} service is unavailable; try again shortly`;
    const representations = options.request.variables?.representations;
    if (Array.isArray(representations)) {
      return { errors: representations.map((_, i) => ({ message, path: ['_entities', i], extensions })) };
    }
    const fields = rootResponseNames(options);
    if (fields.length === 0) return { errors: [{ message, extensions }] };
    return { errors: fields.map((field) => ({ message, path: [field], extensions })) };
  }
}

/** A subgraph's Cache-Control header as a cache hint, read as Apollo's data source reads it. */
function cacheHint(header: string | null): { maxAge: number; scope?: 'PUBLIC' | 'PRIVATE' } {
  const directives = new Map<string, string | true>();
  for (const part of (header ?? '').trim().split(/\s*,\s*/)) {
    const [name, value] = part.split(/\s*=\s*/, 2);
    if (name) directives.set(name, value === undefined ? true : value.replace(/^"|"$/g, ''));
  }
  const maxAge = directives.get('max-age');
  return {
    maxAge: typeof maxAge === 'string' && /^[0-9]+$/.test(maxAge) ? Number(maxAge) : 0,
    ...(directives.get('private') === true ? { scope: 'PRIVATE' as const } : {}),
    ...(directives.get('public') === true ? { scope: 'PUBLIC' as const } : {}),
  };
}

function rootResponseNames(options: ProcessOptions): string[] {
  let document = 'document' in options ? options.document : undefined;
  if (!document && options.request.query) {
    try {
      document = parse(options.request.query);
    } catch {
      return [];
    }
  }
  const operation = document?.definitions.find((d) => d.kind === 'OperationDefinition');
  if (!operation || operation.kind !== 'OperationDefinition') return [];
  return operation.selectionSet.selections.flatMap((s) => (s.kind === 'Field' ? [s.alias?.value ?? s.name.value] : []));
}
