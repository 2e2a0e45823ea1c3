import type { ApolloServer } from '@apollo/server';
import type { Identity } from '@stockgraph/auth';
import type { EventBus, StreamEntry } from '@stockgraph/events';
import { CodedError, ServiceUnavailableError, UnauthenticatedError } from '@stockgraph/graphql-kit';
import type { Logger } from '@stockgraph/logger';
import {
  getArgumentValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLFormattedError,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import type { Authenticator } from '../authentication.js';
import { OperationNotTrustedError } from '../persisted-operations.js';
import { rootFields } from '../root-fields.js';
import { authorizeSubscription, dependsOnUser, supergraphView } from './authorize.js';
import { buildEventQuery } from './event-query.js';
import type { ClientIdentity } from '../client-awareness.js';
import { createStreamFollower, type StreamFollower } from './events.js';
import { subscriptionFields, type ServedField } from './fields.js';
import { liveEvents, type Accepted, type LiveEvents } from './live.js';
import { startingPoint } from './resume.js';

/** What a subscription's queries run with: the gateway's request context (see app.ts). */
export interface SubscriberContext {
  identity: Identity | null;
  tokenError: GraphQLError | null;
  token: string | null;
  clientAddress: string;
  /** The calling app, as its request named it (client-awareness.ts). */
  client: ClientIdentity;
  /** A query the gateway runs for a subscriber's event: metered and trusted as the subscription was. */
  derived?: boolean;
}

export interface SubscriptionRequest {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  /** The last stream id the client saw: resume after it. */
  lastEventId?: string | null;
}

export interface Caller {
  authorization: string | undefined;
  clientAddress: string;
  client: ClientIdentity;
  /** Events handed to the transport and not yet written to the client; omitted when it awaits each write. */
  unwritten?: () => number;
}

export interface SubscriptionSettings {
  bus: EventBus | null;
  /** The process's one reader per stream, shared with the response cache's invalidation; default: its own. */
  follower?: StreamFollower | null;
  authenticate: Authenticator;
  logger: Logger;
  perUser: number;
  backlogMax: number;
  /** How often a live subscription re-checks its session (revocation, expiry). */
  recheckMs: number;
  /** Production: no "Did you mean …?" in errors, as over HTTP (graphql-armor's blockFieldSuggestion). */
  hideSuggestions?: boolean;
  /**
   * What the gateway's edge applies to every operation over HTTP, applied here too: a subscription is
   * no way around trusted documents, the depth, alias and cost limits, or the cost budget.
   */
  edge?: SubscriptionEdge;
  /** Told of each subscription that started (the schema usage recorder: the plugin never sees them). */
  onStarted?: (started: {
    schema: GraphQLSchema;
    document: DocumentNode;
    operationName: string | undefined;
    variables: Record<string, unknown>;
    client: ClientIdentity;
  }) => void;
}

export interface SubscriptionEdge {
  /** TRUSTED_DOCUMENTS_ONLY: only manifest operations run (over these transports, by their exact text). */
  trustedOnly: boolean;
  /** The manifest's document of this exact text; undefined when it is not in the manifest. */
  manifestDocument(query: string): string | undefined;
  /** graphql-armor's rules (depth, aliases, directives, cost), as the gateway validates with. */
  validationRules: readonly ValidationRule[];
  /** The operation's estimated cost in the rate limit's points. */
  cost(schema: GraphQLSchema, document: DocumentNode): number;
  /** Spends from the caller's cost budget; rejects with RATE_LIMITED when it is spent. */
  charge(context: SubscriberContext, points: number): Promise<void>;
}

/** graphql-js's suggestions name fields and values of the schema a client asked wrongly for. */
const SUGGESTION = / ?Did you mean [^?]*\?/g;

type Execute = (
  query: string,
  variables: Record<string, unknown>,
  context: SubscriberContext,
  operationName?: string | null,
) => Promise<ExecutionResult>;

export type Outcome = ExecutionResult | AsyncIterableIterator<ExecutionResult>;

const DENIALS = new Set(['FORBIDDEN', 'UNAUTHENTICATED']);

/** How long stopping waits for transports to send each subscriber its SHUTTING_DOWN. */
const CLOSE_GRACE_MS = 2000;

/** One event's entity query, asked once for every subscriber that shares it, and whose context asked it. */
interface SharedAnswer {
  askedBy: object;
  result: Promise<ExecutionResult>;
}

/** The asker's token was refused (its session ended or it expired): nothing about the event itself. */
const refusedToken = (result: ExecutionResult) =>
  result.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED') ?? false;

function coded(message: string, code: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

/**
 * Whether the subscription's root selection (through root-level fragments) carries @skip or @include.
 * graphql-js accepts a subscription whose one field is skipped, the authorization walk leaves excluded
 * selections alone, and the engine serves the root field whatever its directives: such a subscription
 * would stream unauthorized. Nothing useful needs a conditional root, so it is refused.
 */
function conditionalRoot(set: SelectionSetNode, document: DocumentNode): boolean {
  return set.selections.some((selection) => {
    if (selection.directives?.some((d) => d.name.value === 'skip' || d.name.value === 'include')) return true;
    if (selection.kind === Kind.FIELD) return false;
    const inner =
      selection.kind === Kind.INLINE_FRAGMENT
        ? selection.selectionSet
        : document.definitions.find(
            (d): d is FragmentDefinitionNode =>
              d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value,
          )?.selectionSet;
    return inner ? conditionalRoot(inner, document) : false;
  });
}

const fromFormatted = (error: GraphQLFormattedError, prefix: string) =>
  new GraphQLError(error.message, { path: [prefix, ...(error.path ?? [])], extensions: error.extensions });

/**
 * Subscriptions at the gateway. @apollo/gateway cannot execute them, so each event is resolved here:
 * the subscription is parsed, validated and authorized like a query, its entity selections become one
 * query per event (event-query.ts) that the gateway plans and authorizes as the subscriber, and events
 * come from the services' Redis streams through one shared reader per stream (events.ts).
 */
export function createSubscriptions(settings: SubscriptionSettings) {
  const view = supergraphView<SubscriberContext>();
  let execute: Execute | null = null;
  const follower = settings.follower ?? (settings.bus ? createStreamFollower(settings.bus, settings.logger) : null);
  const perUser = new Map<string, number>();
  const open = new Set<LiveEvents>();
  // Decoded once per entry, and one query per entry and (query, role or user): a thousand subscribers
  // of one product cost one resolution of each change, not a thousand.
  const decoded = new WeakMap<StreamEntry, unknown>();
  const resolved = new WeakMap<StreamEntry, Map<string, SharedAnswer>>();

  function decode(field: ServedField, entry: StreamEntry): unknown {
    if (decoded.has(entry)) return decoded.get(entry);
    let payload: unknown = null;
    if (entry.envelope.type === field.eventType) {
      payload = field.decode(entry.envelope.payload);
      if (payload === null)
        settings.logger.warn({ stream: field.stream.name, id: entry.id }, 'event does not match its contract');
    }
    decoded.set(entry, payload);
    return payload;
  }

  /** The errors' messages in one, without suggestions when the schema's names are not to be guessed. */
  const messages = (errors: readonly GraphQLError[]) =>
    errors.map((e) => (settings.hideSuggestions ? e.message.replace(SUGGESTION, '') : e.message)).join('; ');

  async function begin(request: SubscriptionRequest, caller: Caller): Promise<Outcome> {
    const current = view.current();
    if (!current || !execute) throw new ServiceUnavailableError('The gateway is starting; try again');
    const run = execute;
    const edge = settings.edge;
    const query = request.query;
    if (typeof query !== 'string' || query.length === 0) throw coded('Send the operation in "query"', 'BAD_REQUEST');
    // Refused before parsing, as over HTTP: untrusted text costs nothing and learns nothing of the schema.
    // (graphql-sse and graphql-ws both require the text, so a trusted client sends the manifest's own.)
    if (edge?.trustedOnly && edge.manifestDocument(query) === undefined) throw new OperationNotTrustedError();
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: 4000 });
    } catch (error) {
      throw coded((error as Error).message, 'GRAPHQL_PARSE_FAILED');
    }
    let invalid: readonly GraphQLError[];
    try {
      invalid = validate(current.schema, document, [...specifiedRules, ...(edge?.validationRules ?? [])]);
    } catch (error) {
      // graphql-js's one-root-field rule evaluates @skip/@include and throws on a variable it lacks.
      throw coded((error as Error).message, 'GRAPHQL_VALIDATION_FAILED');
    }
    if (invalid.length > 0) throw coded(messages(invalid), 'GRAPHQL_VALIDATION_FAILED');
    const operation = getOperationAST(document, request.operationName ?? undefined);
    if (!operation) throw coded('Name the operation to run (operationName)', 'BAD_REQUEST');
    const session = await settings.authenticate(caller.authorization);
    const context: SubscriberContext = {
      identity: session?.identity ?? null,
      token: session?.token ?? null,
      tokenError: null,
      clientAddress: caller.clientAddress,
      client: caller.client,
    };
    const rawVariables = request.variables ?? {};
    // Queries and mutations sent over these transports run as they would over HTTP.
    if (operation.operation !== 'subscription') return run(query, rawVariables, context, request.operationName);

    if (conditionalRoot(operation.selectionSet, document))
      throw coded("A subscription's root field cannot carry @skip or @include", 'BAD_REQUEST');
    const coercion = getVariableValues(current.schema, operation.variableDefinitions ?? [], rawVariables);
    if (coercion.errors) throw coded(messages(coercion.errors), 'BAD_USER_INPUT');
    const variables = coercion.coerced;
    authorizeSubscription(current, document, operation, variables, context.identity);
    const identity = context.identity;
    if (!identity || !follower || !settings.bus) {
      if (!identity) throw new UnauthenticatedError('Sign in to subscribe');
      throw new ServiceUnavailableError('Subscriptions need the event bus, which this gateway has not got');
    }
    const root = rootFields(operation.selectionSet, document)[0];
    const field = root && subscriptionFields[root.name.value];
    const definition = root && current.schema.getSubscriptionType()?.getFields()[root.name.value];
    if (!root || !field || !definition) throw coded('This subscription is not served here', 'BAD_REQUEST');
    const args = getArgumentValues(definition, root, variables);
    const bound = field.bind(args);
    // Metered like a query that fetched every entity it follows once: cost × ids (stockChanged(ids:)).
    const followed = Object.values(args).reduce<number>((n, v) => n + (Array.isArray(v) ? v.length : 0), 0);
    const cost = edge ? Math.max(1, edge.cost(current.schema, document)) : 0;
    await edge?.charge(context, cost * Math.max(1, followed));

    const held = perUser.get(identity.userId) ?? 0;
    if (held >= settings.perUser)
      throw new CodedError(`A user may hold ${settings.perUser} live subscriptions at once`, 'TOO_MANY_SUBSCRIPTIONS');
    // The slot is taken before the first await and given back if the subscription does not start:
    // read before the awaits and written after them, 300 subscriptions opened at once all saw the
    // same count and all got in.
    perUser.set(identity.userId, held + 1);
    const release = () => {
      const left = (perUser.get(identity.userId) ?? 1) - 1;
      if (left > 0) perUser.set(identity.userId, left);
      else perUser.delete(identity.userId);
    };
    let started = false;
    try {
      const derived: SubscriberContext = { ...context, derived: true };
      await bound.check(identity, (query, vars) => run(query, vars, derived));
      const plan = buildEventQuery(document, operation, variables, root, field);
      const perUserAnswers = plan.text !== null && dependsOnUser(current, parse(plan.text));
      const memo = `${plan.text}\n${JSON.stringify(plan.variables)}\n${perUserAnswers ? identity.userId : identity.role}`;
      const typeName = getNamedType(definition.type).name;
      // Each replayed event costs what its entity query would over HTTP (at least a point).
      const eventCost = edge && plan.text !== null ? Math.max(1, edge.cost(current.schema, parse(plan.text))) : 1;
      const startId = await startingPoint(settings.bus, field.stream.name, request.lastEventId ?? null);

      const accept = (entry: StreamEntry): Accepted | null => {
        const payload = decode(field, entry);
        return payload !== null && bound.accepts(payload, identity) ? { entry, payload } : null;
      };

      async function resolveEvent({ entry, payload }: Accepted): Promise<ExecutionResult | null> {
        let entities: ExecutionResult | null = null;
        if (plan.text !== null) {
          const ids = Object.fromEntries(
            Object.entries(plan.idVariables).map(([variable, name]) => [variable, bound.entityId(name, payload)]),
          );
          const key = `${memo}\n${JSON.stringify(ids)}`;
          let answers = resolved.get(entry);
          if (!answers) resolved.set(entry, (answers = new Map()));
          const ask = (): SharedAnswer => {
            const answer = { askedBy: derived, result: run(plan.text!, { ...plan.variables, ...ids }, derived) };
            answers.set(key, answer);
            return answer;
          };
          let shared = answers.get(key) ?? ask();
          entities = await shared.result;
          // Asked with another subscriber's token, which ended meanwhile (a sign-out, an expiry): that
          // refusal is theirs, not this subscriber's. Asked again as this one, and shared from now on.
          if (shared.askedBy !== derived && refusedToken(entities)) {
            if (answers.get(key) === shared) shared = ask();
            else shared = answers.get(key)!;
            entities = await shared.result;
          }
          // The subscriber may no longer see it (a changed role, an order not theirs): it never reaches them.
          if (entities.errors?.some((e) => DENIALS.has(String(e.extensions?.code)))) return null;
        }
        const data: Record<string, unknown> = {};
        let missing = false;
        for (const part of plan.parts) {
          if (part.kind === 'typename') data[part.key] = typeName;
          else if (part.kind === 'local') data[part.key] = bound.local(part.field, payload, entry.id);
          else {
            data[part.key] = entities?.data?.[part.key] ?? null;
            if (data[part.key] === null) missing = true;
          }
        }
        const errors = (entities?.errors ?? []).map((e) => fromFormatted(e as GraphQLFormattedError, plan.rootKey));
        const extensions = { streamId: entry.id };
        // Every entity field is non-null: one that did not load nulls the whole event, as GraphQL would.
        if (missing) return { data: null, errors, extensions };
        return { data: { [plan.rootKey]: data }, ...(errors.length ? { errors } : {}), extensions };
      }

      const events = liveEvents({
        bus: settings.bus,
        stream: field.stream.name,
        startId,
        listen: (onEntry) =>
          follower.listen(field.stream.name, (entry) => {
            const accepted = accept(entry);
            if (accepted) onEntry(accepted);
          }),
        accept,
        resolve: resolveEvent,
        unwritten: caller.unwritten ?? (() => 0),
        backlogMax: settings.backlogMax,
        recheckMs: settings.recheckMs,
        meterCatchUp: edge
          ? async (count) => {
              try {
                await edge.charge(context, eventCost * count);
                return null;
              } catch (error) {
                if (error instanceof GraphQLError) return error;
                throw error;
              }
            }
          : undefined,
        recheck: async () => {
          try {
            await settings.authenticate(caller.authorization);
            return null;
          } catch (error) {
            // Only a refused token ends it; a users service that cannot be asked right now does not.
            if (error instanceof GraphQLError && error.extensions.code === 'UNAUTHENTICATED') return error;
            return null;
          }
        },
        onEnd: () => {
          release();
          open.delete(events);
        },
      });
      open.add(events);
      started = true;
      settings.onStarted?.({
        schema: current.schema,
        document,
        operationName: operation.name?.value,
        variables,
        client: caller.client,
      });
      return events;
    } finally {
      if (!started) release();
    }
  }

  return {
    /** Add to the gateway's Apollo plugins: it keeps the supergraph the subscriptions validate against. */
    plugin: view.plugin,
    /** Runs each event's query through this Apollo server: the gateway's planner and plugins. */
    bind(apollo: ApolloServer<SubscriberContext>) {
      execute = async (query, variables, contextValue, operationName) => {
        const response = await apollo.executeOperation(
          { query, variables, operationName: operationName ?? undefined },
          { contextValue },
        );
        if (response.body.kind !== 'single') throw new Error('incremental delivery is not used by subscriptions');
        return response.body.singleResult as ExecutionResult;
      };
    },
    /** Starts one operation: a stream of results, or one result (an error, or a query's answer). */
    async start(request: SubscriptionRequest, caller: Caller): Promise<Outcome> {
      try {
        return await begin(request, caller);
      } catch (error) {
        if (error instanceof GraphQLError) return { data: null, errors: [error] };
        settings.logger.error({ err: error }, 'subscription failed to start');
        return { data: null, errors: [coded('Internal server error', 'INTERNAL_SERVER_ERROR')] };
      }
    },
    /** The API schema subscriptions validate against; null until the gateway loaded the supergraph. */
    schema: () => view.current()?.schema ?? null,
    activeCount: () => open.size,
    /**
     * Ends every subscription with SHUTTING_DOWN, not `complete`: a complete tells a client its
     * subscription is over, this tells it to reconnect (to another replica) with the last stream id it
     * received, and lose nothing. Those whose transport does not take the last result soon are ended.
     */
    async close() {
      const stopping = new CodedError(
        'This gateway is shutting down: subscribe again (another replica answers) with the last stream id you received to resume',
        'SHUTTING_DOWN',
      );
      for (const events of open) events.endWith(stopping);
      const deadline = Date.now() + CLOSE_GRACE_MS;
      while (open.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      await Promise.allSettled([...open].map(async (events) => events.return?.()));
      await follower?.close();
    },
  };
}

export type Subscriptions = ReturnType<typeof createSubscriptions>;
