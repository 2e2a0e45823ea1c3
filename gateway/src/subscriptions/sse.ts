import express, { type Request, type Response } from 'express';
import { createHandler } from 'graphql-sse/lib/use/express';
import { getOperationAST, parse, type ExecutionResult } from 'graphql';
import type { IncomingHttpHeaders } from 'node:http';
import type { ClientIdentity } from '../client-awareness.js';
import type { Outcome, Subscriptions } from './engine.js';

/** HTTP status for an operation refused before its stream opened. */
const STATUS: Record<string, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RESUME_EXPIRED: 409,
  TOO_MANY_SUBSCRIPTIONS: 429,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

const isStream = (outcome: Outcome): outcome is AsyncIterableIterator<ExecutionResult> =>
  Symbol.asyncIterator in outcome;

/** The stream id a result carries, as print() wrote it last in the event's JSON. */
const STREAM_ID_AT_END = /"extensions":\{"streamId":"(\d+-\d+)"\}\}\n\n$/;

/**
 * GraphQL over Server-Sent Events (the graphql-sse protocol, "distinct connections" mode): a POST or
 * GET to /graphql with `Accept: text/event-stream` opens one operation's stream. Each event's SSE `id`
 * is its stream id, so a client (or a browser's EventSource) reconnecting with `Last-Event-ID` resumes
 * where it left off. The library sends a comment every 12 s as a heartbeat. An operation refused before
 * it starts is answered with a coded JSON error and an HTTP status, never a stream that hangs.
 */
function isMutation(query: unknown, operationName: unknown): boolean {
  if (typeof query !== 'string') return false;
  try {
    const name = typeof operationName === 'string' ? operationName : undefined;
    return getOperationAST(parse(query, { maxTokens: 4000 }), name)?.operation === 'mutation';
  } catch {
    // Not parseable: the subscription engine answers it with its parse error.
    return false;
  }
}

export function sseRoute(
  subscriptions: Subscriptions,
  identifyClient: (headers: IncomingHttpHeaders) => ClientIdentity,
) {
  const handler = createHandler<{ res: Response }>({
    // No token: every request is its own stream (distinct connections); single-connection mode is off.
    authenticate: () => undefined,
    onSubscribe: async (req, params) => {
      const raw = req.raw as Request;
      const res = req.context.res;
      let yielded = 0;
      let written = 0;
      // Events pulled from the subscription but still queued in the library or the socket: the
      // subscription drops the client with SLOW_CONSUMER past its bound (live.ts).
      const write = res.write.bind(res) as (chunk: string, callback?: (error?: Error | null) => void) => boolean;
      res.write = ((chunk: string, callback?: (error?: Error | null) => void) => {
        if (typeof chunk !== 'string' || !chunk.startsWith('event: next')) return write(chunk, callback);
        const id = STREAM_ID_AT_END.exec(chunk)?.[1];
        return write(id ? `id: ${id}\n${chunk}` : chunk, (error) => {
          written++;
          callback?.(error);
        });
      }) as typeof res.write;
      // As Apollo answers a mutation sent by GET over plain HTTP: a GET must change nothing, and its
      // URL (a login's password included) ends up in proxies' logs.
      if (raw.method === 'GET' && isMutation(params.query, params.operationName)) {
        const error = { message: 'Mutations are sent with POST', extensions: { code: 'METHOD_NOT_ALLOWED' } };
        return [
          JSON.stringify({ errors: [error] }),
          {
            status: 405,
            statusText: 'METHOD_NOT_ALLOWED',
            headers: { 'content-type': 'application/json; charset=utf-8', allow: 'POST' },
          },
        ];
      }
      const lastEventId = raw.get('last-event-id') ?? (params.extensions?.lastEventId as string | undefined) ?? null;
      const outcome = await subscriptions.start(
        { query: params.query, operationName: params.operationName, variables: params.variables, lastEventId },
        {
          authorization: raw.get('authorization'),
          clientAddress: raw.ip ?? raw.socket.remoteAddress ?? '',
          client: identifyClient(raw.headers),
          unwritten: () => yielded - written,
        },
      );
      if (isStream(outcome)) {
        const next = outcome.next.bind(outcome);
        outcome.next = async () => {
          const step = await next();
          if (!step.done) yielded++;
          return step;
        };
        return outcome;
      }
      const code = String(outcome.errors?.[0]?.extensions?.code ?? '');
      if (outcome.errors?.length && outcome.data == null) {
        const status = STATUS[code] ?? 400;
        return [
          JSON.stringify({ errors: outcome.errors }),
          { status, statusText: code, headers: { 'content-type': 'application/json; charset=utf-8' } },
        ];
      }
      return outcome;
    },
  });
  const json = express.json({ limit: '64kb' });
  return (app: express.Express) => {
    app.use('/graphql', (req, res, next) => {
      if (!req.accepts('text/event-stream') || !String(req.headers.accept).includes('text/event-stream')) return next();
      // The library matches the header exactly; a browser may send parameters with it.
      req.headers.accept = 'text/event-stream';
      json(req, res, (error?: unknown) => (error ? next(error) : void handler(req, res).catch(next)));
    });
  };
}
