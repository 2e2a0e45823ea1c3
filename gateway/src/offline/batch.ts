import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  BadUserInputError,
  DateTimeScalar,
  parseIdempotencyKey,
  ServiceUnavailableError,
  UnauthenticatedError,
} from '@stockgraph/graphql-kit';
import type { Logger } from '@stockgraph/logger';
import { GraphQLError, parse, type DocumentNode, type FormattedExecutionResult, type GraphQLSchema } from 'graphql';
import type { GatewayContext } from '../context.js';
import type { OfflineLedger, Recorded } from './ledger.js';

const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

/** The supergraph's name for this part (schema/subgraphs.ts): the gateway serves it in-process. */
export const OFFLINE_SUBGRAPH = 'offline';

/** The most operations one batch may carry: a day offline on a till, and a bounded request. */
export const MAX_OPERATIONS = 100;
/** How far ahead of the gateway's clock a device's clock may run. */
const CLOCK_SKEW_MS = 5 * 60_000;
/**
 * The oldest operation a batch may replay: the services keep idempotency keys (and the ledger its record
 * of done operations) longer than this, so an operation older than it could not be recognised as done.
 */
export const MAX_AGE_MS = 30 * 86_400_000;
/** Refusals that may not hold later: not remembered, so a resend tries again. */
const RETRYABLE = new Set(['RATE_LIMITED', 'STOCKTAKE_IN_PROGRESS', 'SERVICE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR']);

const KINDS = ['placeOrder', 'cancelOrder', 'receiveStock', 'adjustStock', 'recordStocktakeCount'] as const;
type Kind = (typeof KINDS)[number];

interface OfflineOperation {
  idempotencyKey: string;
  recordedAt: unknown;
  placeOrder?: { customerId: string; items: { productId: string; quantity: number }[] } | null;
  cancelOrder?: { id: string } | null;
  receiveStock?: { productId: string; quantity: number; note?: string | null } | null;
  adjustStock?: { productId: string; delta: number; reason: string; note?: string | null } | null;
  recordStocktakeCount?: { stocktakeId: string; productId: string; counted: number } | null;
}

export interface OfflineOutcome {
  index: number;
  idempotencyKey: string;
  status: 'DONE' | 'ALREADY_DONE' | 'REFUSED';
  code: string | null;
  message: string | null;
  retryable: boolean;
  order: { __typename: 'Order'; id: string } | null;
  product: { __typename: 'Product'; id: string } | null;
}

/** A mutation's answer: its one root field, selecting the id of what it touched. */
type Answer = Record<string, { id?: string; product?: { id: string } } | null>;

/** The mutation each kind runs as (selecting only the id: the outcome links the entity), and what it touched. */
const MUTATIONS: Record<Kind, { text: string; document: DocumentNode; refs(data: Answer): Recorded }> = {
  placeOrder: mutation(
    'mutation OfflinePlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }',
    (d) => ({ orderId: d.placeOrder?.id }),
  ),
  cancelOrder: mutation('mutation OfflineCancelOrder($id: ID!) { cancelOrder(id: $id) { id } }', (d) => ({
    orderId: d.cancelOrder?.id,
  })),
  receiveStock: mutation(
    `mutation OfflineReceiveStock($productId: ID!, $quantity: Int!, $note: String, $idempotencyKey: String) {
      receiveStock(productId: $productId, quantity: $quantity, note: $note, idempotencyKey: $idempotencyKey) { id } }`,
    (d) => ({ productId: d.receiveStock?.id }),
  ),
  adjustStock: mutation(
    `mutation OfflineAdjustStock($productId: ID!, $delta: Int!, $reason: AdjustmentReason!, $note: String, $idempotencyKey: String) {
      adjustStock(productId: $productId, delta: $delta, reason: $reason, note: $note, idempotencyKey: $idempotencyKey) { id } }`,
    (d) => ({ productId: d.adjustStock?.id }),
  ),
  recordStocktakeCount: mutation(
    `mutation OfflineStocktakeCount($stocktakeId: ID!, $productId: ID!, $counted: Int!) {
      recordStocktakeCount(stocktakeId: $stocktakeId, productId: $productId, counted: $counted) { product { id } } }`,
    (d) => ({ productId: d.recordStocktakeCount?.product?.id }),
  ),
};

function mutation(text: string, refs: (data: Answer) => Recorded) {
  return { text, document: parse(text), refs };
}

/** The chosen mutation's variables: its own arguments, with the operation's key where it takes one. */
function variablesOf(kind: Kind, operation: OfflineOperation, key: string): Record<string, unknown> {
  switch (kind) {
    case 'placeOrder':
      return { input: { ...operation.placeOrder!, idempotencyKey: key } };
    case 'cancelOrder':
      return { id: operation.cancelOrder!.id };
    case 'receiveStock':
      return { ...operation.receiveStock!, idempotencyKey: key };
    case 'adjustStock':
      return { ...operation.adjustStock!, idempotencyKey: key };
    case 'recordStocktakeCount':
      return { ...operation.recordStocktakeCount! };
  }
}

/** The one operation field set, and the moment it was recorded; BAD_USER_INPUT otherwise. */
function check(operation: OfflineOperation, index: number, now: number): { kind: Kind; key: string } {
  const at = `operations[${index}]`;
  const key = parseIdempotencyKey(operation.idempotencyKey, `${at}.idempotencyKey`);
  const recordedAt = operation.recordedAt instanceof Date ? operation.recordedAt.getTime() : Number.NaN;
  if (!(recordedAt <= now + CLOCK_SKEW_MS))
    throw new BadUserInputError('recordedAt is in the future: check the device clock', `${at}.recordedAt`);
  if (recordedAt < now - MAX_AGE_MS)
    throw new BadUserInputError('recordedAt is more than 30 days ago: too old to replay safely', `${at}.recordedAt`);
  const set = KINDS.filter((kind) => operation[kind] != null);
  if (set.length !== 1) throw new BadUserInputError(`set exactly one of ${KINDS.join(', ')} (got ${set.length})`, at);
  return { kind: set[0]!, key };
}

const outcome = (index: number, idempotencyKey: string, recorded: Recorded, status: OfflineOutcome['status']) => ({
  index,
  idempotencyKey,
  status,
  code: recorded.code ?? null,
  message: recorded.message ?? null,
  retryable: recorded.code ? RETRYABLE.has(recorded.code) : false,
  order: recorded.orderId ? { __typename: 'Order' as const, id: recorded.orderId } : null,
  product: recorded.productId ? { __typename: 'Product' as const, id: recorded.productId } : null,
});

export interface OfflineRunner {
  /** Runs a mutation through the gateway as the caller (their authorization, planning). */
  execute(
    query: string,
    variables: Record<string, unknown>,
    context: GatewayContext,
  ): Promise<FormattedExecutionResult>;
  /** Spends from the caller's cost budget; throws RATE_LIMITED when it is spent. */
  charge(context: GatewayContext, document: DocumentNode): Promise<void>;
}

/**
 * `submitBatch`, the gateway's own part of the supergraph (served in-process, a LocalGraphQLDataSource):
 * each operation runs as the mutation it names, in order, through the gateway as the caller. A ledger of
 * what each key came to (Redis, else this process's memory) answers a resend without running it again;
 * should the ledger lose a key, the services' own idempotency keys still apply it once.
 */
export function offlineBatches(ledger: OfflineLedger, logger: Logger) {
  let runner: OfflineRunner | null = null;

  async function one(index: number, operation: OfflineOperation, context: GatewayContext, userId: string) {
    let checked: { kind: Kind; key: string };
    try {
      checked = check(operation, index, Date.now());
    } catch (error) {
      // check() throws BAD_USER_INPUT only.
      const message = (error as GraphQLError).message;
      return outcome(index, operation.idempotencyKey, { code: 'BAD_USER_INPUT', message }, 'REFUSED');
    }
    const { kind, key } = checked;
    const variables = variablesOf(kind, operation, key);
    // What the key was given for: the same key with another operation is a client bug, not a resend.
    const request = createHash('sha256').update(JSON.stringify({ kind, variables })).digest('base64url');
    const earlier = await ledger.get(userId, key);
    if (earlier && earlier.request !== undefined && earlier.request !== request) {
      const message = 'idempotencyKey was already used for a different operation';
      return outcome(index, key, { code: 'CONFLICT', message }, 'REFUSED');
    }
    if (earlier) return outcome(index, key, earlier, earlier.code ? 'REFUSED' : 'ALREADY_DONE');
    const mutation = MUTATIONS[kind];
    let result: FormattedExecutionResult;
    try {
      await runner!.charge(context, mutation.document);
      result = await runner!.execute(mutation.text, variables, context);
    } catch (error) {
      // A spent budget (RATE_LIMITED) is the one refusal expected here; the operation did not run.
      const coded = error instanceof GraphQLError && typeof error.extensions.code === 'string';
      if (!coded) logger.error({ err: error, kind }, 'an offline operation failed');
      return outcome(
        index,
        key,
        coded
          ? { code: error.extensions.code as string, message: error.message }
          : { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' },
        'REFUSED',
      );
    }
    const failure = result.errors?.[0];
    if (failure || !result.data) {
      const recorded = {
        code: String(failure?.extensions?.code ?? 'INTERNAL_SERVER_ERROR'),
        message: failure?.message ?? 'Internal server error',
        request,
      };
      if (!RETRYABLE.has(recorded.code)) await ledger.set(userId, key, recorded);
      return outcome(index, key, recorded, 'REFUSED');
    }
    const recorded = { ...mutation.refs(result.data as Answer), request };
    await ledger.set(userId, key, recorded);
    return outcome(index, key, recorded, 'DONE');
  }

  const schema: GraphQLSchema = buildSubgraphSchema([
    {
      typeDefs,
      resolvers: {
        DateTime: DateTimeScalar,
        Mutation: {
          submitBatch: async (_parent: unknown, args: { operations: OfflineOperation[] }, context: GatewayContext) => {
            if (!context.identity) throw new UnauthenticatedError();
            if (!runner) throw new ServiceUnavailableError('The gateway is starting: try again');
            const { operations } = args;
            if (operations.length === 0 || operations.length > MAX_OPERATIONS)
              throw new BadUserInputError(`operations takes 1 to ${MAX_OPERATIONS} operations`, 'operations');
            const outcomes: OfflineOutcome[] = [];
            // In order, one at a time: a device's later operations may depend on its earlier ones.
            for (const [index, operation] of operations.entries())
              outcomes.push(await one(index, operation, context, context.identity.userId));
            return outcomes;
          },
        },
      },
    },
  ]);

  return {
    schema,
    /** Called once the gateway's Apollo server exists: operations run through it. */
    bind(bound: OfflineRunner) {
      runner = bound;
    },
  };
}

export type OfflineBatches = ReturnType<typeof offlineBatches>;
