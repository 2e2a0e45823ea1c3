import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, parse, type ExecutionResult, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Authenticator } from '../authentication.js';
import type { ClientIdentity } from '../client-awareness.js';
import type { Outcome, Subscriptions } from './engine.js';

export interface WsSettings {
  perConnection: number;
  /** WebSockets one user may hold open on this gateway process. */
  perUser: number;
  heartbeatMs: number;
  /** Checks the token a connection brings, as every request's is. */
  authenticate: Authenticator;
  /** The client's address behind trusted proxies (TRUST_PROXY), as HTTP requests get it. */
  clientAddress: (req: http.IncomingMessage) => string;
  /** The calling app, from the upgrade request's headers (a browser's WebSocket cannot add its own). */
  identifyClient: (headers: http.IncomingHttpHeaders) => ClientIdentity;
  /** The API schema the operation was validated against (graphql-ws wants one with the arguments). */
  schema: () => GraphQLSchema | null;
}

type ConnectionParams = Record<string, unknown> & {
  authorization?: unknown;
  Authorization?: unknown;
  /** The last stream id the client saw, for every subscription it starts on this connection. */
  lastEventId?: unknown;
};

/** WebSocket close codes beyond the protocol's own, with the error code in the reason. */
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_TOO_MANY = 4429;
const CLOSE_TRY_AGAIN = 1013;
const CLOSE_POLICY = 1008;

const isStream = (outcome: Outcome): outcome is AsyncIterableIterator<ExecutionResult> =>
  Symbol.asyncIterator in outcome;

const closeReason = (code: string, message: string) => `${code}: ${message}`.slice(0, 123);

/** Ends the connection after a subscription ended for a reason that concerns the whole connection. */
function closeFor(socket: WebSocket, result: ExecutionResult): void {
  const error = result.errors?.[0];
  const code = error?.extensions?.code;
  if (code === 'UNAUTHENTICATED') socket.close(CLOSE_UNAUTHENTICATED, closeReason(code, error!.message));
  if (code === 'SLOW_CONSUMER') socket.close(CLOSE_POLICY, closeReason(code, 'the client did not keep up'));
}

/**
 * GraphQL over WebSocket (the graphql-transport-ws subprotocol of graphql-ws) on /graphql. The token
 * comes in the connection parameters (`authorization: "Bearer …"`), the resume point in
 * `lastEventId` (there, or per operation in the subscribe message's `extensions`). A ping every
 * `heartbeatMs`; a client that misses a pong is cut off. A connection holds at most `perConnection`
 * subscriptions; one whose session ends, or that cannot keep up, is closed with the reason.
 */
export function attachWebSocket(httpServer: http.Server, subscriptions: Subscriptions, settings: WsSettings) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const active = new WeakMap<object, number>();
  /** Open, acknowledged connections per user, and whose each one is. */
  const perUser = new Map<string, number>();
  const owner = new WeakMap<object, string>();
  const server = useServer<ConnectionParams>(
    {
      // The token is checked before the connection is acknowledged: one that is missing, forged, expired
      // or of an ended session is closed at once, so nobody holds sockets without a session, and each
      // user holds at most `perUser` of them.
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const authorization = params.authorization ?? params.Authorization;
        const socket = ctx.extra.socket;
        if (typeof authorization !== 'string' || authorization.length === 0) {
          socket.close(
            CLOSE_UNAUTHENTICATED,
            closeReason('UNAUTHENTICATED', 'send authorization in the connection parameters'),
          );
          return false;
        }
        let session: Awaited<ReturnType<Authenticator>>;
        try {
          session = await settings.authenticate(authorization);
        } catch (error) {
          const code = error instanceof GraphQLError ? String(error.extensions.code) : 'INTERNAL_SERVER_ERROR';
          if (code === 'UNAUTHENTICATED')
            socket.close(CLOSE_UNAUTHENTICATED, closeReason(code, (error as Error).message));
          else socket.close(CLOSE_TRY_AGAIN, closeReason(code, 'sign-in cannot be checked right now; try again'));
          return false;
        }
        if (!session) {
          socket.close(CLOSE_UNAUTHENTICATED, closeReason('UNAUTHENTICATED', 'send a bearer token'));
          return false;
        }
        const userId = session.identity.userId;
        const held = perUser.get(userId) ?? 0;
        if (held >= settings.perUser) {
          socket.close(
            CLOSE_TOO_MANY,
            closeReason('TOO_MANY_CONNECTIONS', `a user may hold ${settings.perUser} WebSockets at once`),
          );
          return false;
        }
        perUser.set(userId, held + 1);
        owner.set(ctx, userId);
        return true;
      },
      onDisconnect: (ctx) => {
        const userId = owner.get(ctx);
        if (userId === undefined) return;
        owner.delete(ctx);
        const left = (perUser.get(userId) ?? 1) - 1;
        if (left > 0) perUser.set(userId, left);
        else perUser.delete(userId);
      },
      onSubscribe: async (ctx, _id, payload) => {
        const held = active.get(ctx) ?? 0;
        if (held >= settings.perConnection) {
          return [
            new GraphQLError(`A connection may hold ${settings.perConnection} subscriptions at once`, {
              extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
            }),
          ];
        }
        // The slot is taken before the first await and given back unless a stream holds it: counted
        // after the await, 60 subscribe messages sent at once were all let in (the limit is 25).
        active.set(ctx, held + 1);
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          active.set(ctx, (active.get(ctx) ?? 1) - 1);
        };
        const params = ctx.connectionParams ?? {};
        const lastEventId = payload.extensions?.lastEventId ?? params.lastEventId;
        const outcome = await subscriptions
          .start(
            {
              query: payload.query,
              operationName: payload.operationName,
              variables: payload.variables,
              lastEventId: typeof lastEventId === 'string' ? lastEventId : null,
            },
            {
              authorization: String(params.authorization ?? params.Authorization),
              clientAddress: settings.clientAddress(ctx.extra.request),
              client: settings.identifyClient(ctx.extra.request.headers),
            },
          )
          .catch((error: unknown) => {
            release();
            throw error;
          });
        if (!isStream(outcome)) release();
        const schema = settings.schema();
        if (!isStream(outcome) && outcome.errors?.length && outcome.data == null) {
          // Only the gateway refusing the connection's own token (a GraphQLError the engine threw) ends
          // the socket; an operation's answer (a wrong password at login, a field refused) is that
          // operation's error. graphql-ws takes GraphQLError instances only: the formatted errors of an
          // executed operation, passed as they were, made it close the socket with 4500.
          const refusal = outcome.errors[0] instanceof GraphQLError;
          if (refusal && outcome.errors[0]?.extensions?.code === 'UNAUTHENTICATED') closeFor(ctx.extra.socket, outcome);
          // Typed as GraphQLError, but an executed operation's come formatted, as plain objects.
          const errors = outcome.errors as readonly (GraphQLError | GraphQLFormattedError)[];
          return errors.map((e) =>
            e instanceof GraphQLError ? e : new GraphQLError(e.message, { path: e.path, extensions: e.extensions }),
          );
        }
        if (!schema) {
          if (isStream(outcome)) await outcome.return?.();
          release();
          return [new GraphQLError('The gateway is starting', { extensions: { code: 'SERVICE_UNAVAILABLE' } })];
        }
        let result: Outcome = outcome;
        if (isStream(outcome)) {
          const stream: AsyncIterableIterator<ExecutionResult> = {
            next: async () => {
              const step = await outcome.next();
              if (step.done) release();
              else if (step.value.data == null && step.value.errors?.length) {
                // The subscription's last word; the close goes out after it.
                setImmediate(() => closeFor(ctx.extra.socket, step.value));
              }
              return step;
            },
            return: async (value?: unknown) => {
              release();
              return (await outcome.return?.(value)) ?? { done: true, value: undefined };
            },
            [Symbol.asyncIterator]() {
              return this;
            },
          };
          result = stream;
        }
        // graphql-ws runs what `subscribe`/`execute` return; the operation already ran or started above.
        return { schema, document: parse(payload.query), contextValue: result };
      },
      subscribe: (args) => args.contextValue as AsyncIterableIterator<ExecutionResult>,
      execute: (args) => args.contextValue as ExecutionResult,
    },
    wss,
    settings.heartbeatMs,
  );
  const upgrade = (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(request.url ?? '/', 'http://gateway').pathname !== '/graphql') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  httpServer.on('upgrade', upgrade);
  return {
    connections: () => wss.clients.size,
    async close() {
      httpServer.off('upgrade', upgrade);
      await server.dispose();
    },
  };
}
