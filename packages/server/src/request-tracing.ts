import { randomUUID } from 'node:crypto';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { requestLogContext, type RequestLogFields } from '@stockgraph/logger';
import { isTracing, tracer } from '@stockgraph/telemetry';
import type { NextFunction, Request, Response } from 'express';

export const REQUEST_ID_HEADER = 'x-request-id';

/** What a proxy's request id may look like to be kept: short, printable, nothing a log parser trips on. */
const ACCEPTABLE_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/**
 * Names the request: the X-Request-Id of a trusted proxy (Express "trust proxy", TRUST_PROXY; the
 * gateway for a subgraph) is kept so one id follows the request through every hop, anyone else's is
 * replaced, since a client could otherwise plant ids that collide with other people's requests. The
 * id goes back in the X-Request-Id response header, whatever the outcome.
 */
export function assignRequestId(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.headers[REQUEST_ID_HEADER];
  const trusted = typeof incoming === 'string' && ACCEPTABLE_ID.test(incoming) && fromTrustedProxy(req);
  const requestId = trusted ? incoming : randomUUID();
  res.locals.requestId = requestId;
  res.setHeader('X-Request-Id', requestId);
  next();
}

function fromTrustedProxy(req: Request): boolean {
  const trust = req.app.get('trust proxy fn') as ((address: string, hop: number) => boolean) | undefined;
  return Boolean(trust && req.socket.remoteAddress && trust(req.socket.remoteAddress, 0));
}

/**
 * Serves the rest of the request inside its HTTP server span (a child of the caller's W3C
 * traceparent, if any) and its log fields, so every span and log line below belongs to it. Mounted
 * after the body parser: its stream events would otherwise run outside this async context.
 */
export function requestScopeMiddleware(req: Request, res: Response, next: NextFunction): void {
  const fields: RequestLogFields = { requestId: String(res.locals.requestId ?? randomUUID()) };
  // Without a tracer provider the span would record nothing, but building its attributes would not
  // be free (the client address through "trust proxy", two listeners on the response): skip it all.
  if (!isTracing()) return void requestLogContext.run(fields, next);
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const span = tracer.startSpan(
    `${req.method} ${req.baseUrl || req.path}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': req.method,
        'http.route': req.baseUrl || req.path,
        'url.path': req.originalUrl.split('?')[0],
        'url.scheme': req.protocol,
        'client.address': req.ip,
        'user_agent.original': req.headers['user-agent'],
        'stockgraph.request_id': fields.requestId,
      },
    },
    parent,
  );
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
  res.once('finish', end);
  res.once('close', end);
  context.with(trace.setSpan(parent, span), () => requestLogContext.run(fields, next));
}

/** Adds the signed-in user to the request's log lines (and its span) once the token is verified. */
export function noteRequestUser(userId: string | undefined): void {
  if (!userId) return;
  const fields = requestLogContext.getStore();
  if (fields) fields.userId = userId;
  trace.getActiveSpan()?.setAttribute('enduser.id', userId);
}

/**
 * Adds the calling app (already checked and bounded by the gateway) to the request's log lines and
 * span, under the attribute names Apollo's tools use.
 */
export function noteRequestClient(name: string, version: string): void {
  const fields = requestLogContext.getStore();
  if (fields) {
    fields.client = name;
    if (version) fields.clientVersion = version;
  }
  const span = trace.getActiveSpan();
  span?.setAttribute('apollo.client.name', name);
  if (version) span?.setAttribute('apollo.client.version', version);
}

/** The id of the request being served, for error extensions. */
export function currentRequestId(): string | undefined {
  return requestLogContext.getStore()?.requestId;
}
