import { atLeast, type Identity } from '@stockgraph/auth';
import { inventoryStream, ordersStream, type Payload, type StreamContract } from '@stockgraph/contracts';
import { BadUserInputError, ForbiddenError, NotFoundError, parseId } from '@stockgraph/graphql-kit';
import type { ExecutionResult } from 'graphql';

/** Runs a query through the gateway as the subscriber: the same planning and authorization as theirs. */
export type Lookup = (query: string, variables: Record<string, unknown>) => Promise<ExecutionResult>;

/**
 * One root field of Subscription: which stream and event feed it, who may see each event, and how the
 * payload type's fields are answered — its own fields from the event, its entities (`entities`) by the
 * supergraph's root query field that loads them, so every other field is planned like a query.
 */
export interface SubscriptionField<A = unknown, P = unknown> {
  stream: StreamContract;
  eventType: string;
  /** Arguments as the subscriber gave them, checked; throws BAD_USER_INPUT. */
  args(raw: Record<string, unknown>): A;
  /** Checks at subscribe time that need data (unknown ids, ownership); throws a coded error. */
  check?(args: A, identity: Identity, lookup: Lookup): Promise<void>;
  /** Whether this subscriber gets this event: its filter and who may see it. */
  accepts(payload: P, args: A, identity: Identity): boolean;
  /** Payload fields answered from the event itself. */
  local: Record<string, (payload: P, streamId: string) => unknown>;
  /** Payload fields that are entities: the root query field that loads one by id, and its id. */
  entities: Record<string, { rootField: string; id: (payload: P) => string }>;
}

type StockChanged = Payload<typeof inventoryStream, 'StockChanged'>;
type OrderStatusChanged = Payload<typeof ordersStream, 'OrderStatusChanged'>;

const MAX_PRODUCT_IDS = 100;
/** Aliases per existence query: the gateway's alias limit is 30. */
const IDS_PER_LOOKUP = 25;

const stockChange = {
  stream: inventoryStream,
  eventType: 'StockChanged',
  local: {
    available: (p: StockChanged) => p.available,
    streamId: (_p: StockChanged, streamId: string) => streamId,
  },
  entities: {
    product: { rootField: 'product', id: (p: StockChanged) => p.productId },
    movement: { rootField: 'stockMovement', id: (p: StockChanged) => p.movementId },
  },
};

const orderStatusChange = {
  stream: ordersStream,
  eventType: 'OrderStatusChanged',
  local: {
    status: (p: OrderStatusChanged) => p.status,
    previousStatus: (p: OrderStatusChanged) => p.previousStatus,
    streamId: (_p: OrderStatusChanged, streamId: string) => streamId,
  },
  entities: { order: { rootField: 'order', id: (p: OrderStatusChanged) => p.orderId } },
};

const stockChanged: SubscriptionField<Set<string>, StockChanged> = {
  ...stockChange,
  args(raw) {
    const given = Array.isArray(raw.productIds) ? (raw.productIds as string[]) : [];
    if (given.length === 0 || given.length > MAX_PRODUCT_IDS)
      throw new BadUserInputError(`productIds takes 1 to ${MAX_PRODUCT_IDS} ids`, 'productIds');
    return new Set(given.map((id) => parseId(id, 'productIds')));
  },
  // Unknown ids are refused up front: a typo would otherwise wait forever for events that never come.
  async check(ids, _identity, lookup) {
    const all = [...ids];
    const unknown: string[] = [];
    for (let at = 0; at < all.length; at += IDS_PER_LOOKUP) {
      const chunk = all.slice(at, at + IDS_PER_LOOKUP);
      const variables = Object.fromEntries(chunk.map((id, i) => [`id${i}`, id]));
      const query = `query SubscriptionProducts(${chunk.map((_, i) => `$id${i}: ID!`).join(', ')}) { ${chunk
        .map((_, i) => `p${i}: product(id: $id${i}) { id }`)
        .join(' ')} }`;
      const result = await lookup(query, variables);
      if (result.errors?.length) throw result.errors[0]!;
      chunk.forEach((id, i) => result.data?.[`p${i}`] == null && unknown.push(id));
    }
    if (unknown.length > 0) throw new NotFoundError('Product', unknown.join(', '));
  },
  accepts: (p, ids) => ids.has(p.productId),
};

const lowStock: SubscriptionField<number | null, StockChanged> = {
  ...stockChange,
  args(raw) {
    const threshold = raw.threshold;
    if (threshold == null) return null;
    if (typeof threshold !== 'number' || threshold < 0 || threshold > 1_000_000_000)
      throw new BadUserInputError('threshold must be 0 to 1000000000', 'threshold');
    return threshold;
  },
  // Only changes that take units away can make a product low: a receipt never alerts.
  accepts: (p, threshold) => lowering(p) && p.available <= (threshold ?? p.reorderLevel),
};

function lowering(p: StockChanged): boolean {
  const reservedUp = p.reason === 'RESERVATION' && p.delta > 0;
  const onHandDown = (p.reason === 'SALE' || p.reason === 'ADJUSTMENT') && p.delta < 0;
  return reservedUp || onHandDown;
}

/** Whether this user may follow an order whose author is `createdBy`: its author, and STAFF and up. */
const mayFollow = (identity: Identity, createdBy: string | null) =>
  atLeast(identity.role, 'STAFF') || (createdBy !== null && createdBy === identity.userId);

const orderStatusChanged: SubscriptionField<string, OrderStatusChanged> = {
  ...orderStatusChange,
  args: (raw) => parseId(String(raw.orderId ?? ''), 'orderId'),
  async check(orderId, identity, lookup) {
    const result = await lookup('query SubscriptionOrder($id: ID!) { order(id: $id) { createdBy { id } } }', {
      id: orderId,
    });
    if (result.errors?.length) throw result.errors[0]!;
    const order = result.data?.order as { createdBy: { id: string } | null } | null | undefined;
    if (!order) throw new NotFoundError('Order', orderId);
    if (!mayFollow(identity, order.createdBy?.id ?? null))
      throw new ForbiddenError('Only the user who placed an order, and STAFF and up, may follow it', {
        field: 'Subscription.orderStatusChanged',
      });
  },
  accepts: (p, orderId, identity) => p.orderId === orderId && mayFollow(identity, p.createdBy),
};

const ordersChanged: SubscriptionField<Set<string> | null, OrderStatusChanged> = {
  ...orderStatusChange,
  args(raw) {
    if (raw.status == null) return null;
    const statuses = raw.status as string[];
    if (statuses.length === 0) throw new BadUserInputError('status, when given, names at least one status', 'status');
    return new Set(statuses);
  },
  accepts: (p, statuses) => statuses === null || statuses.has(p.status),
};

type StocktakeProgressed = Payload<typeof inventoryStream, 'StocktakeProgressed'>;

const stocktakeProgress: SubscriptionField<string, StocktakeProgressed> = {
  stream: inventoryStream,
  eventType: 'StocktakeProgressed',
  args: (raw) => parseId(String(raw.id ?? ''), 'id'),
  // An unknown id is refused up front, as for stockChanged: it would wait forever for events.
  async check(id, _identity, lookup) {
    const result = await lookup('query SubscriptionStocktake($id: ID!) { stocktake(id: $id) { id } }', { id });
    if (result.errors?.length) throw result.errors[0]!;
    if (result.data?.stocktake == null) throw new NotFoundError('Stocktake', id);
  },
  accepts: (p, id) => p.stocktakeId === id,
  local: {
    status: (p) => p.status,
    counted: (p) => p.counted,
    total: (p) => p.total,
    streamId: (_p, streamId) => streamId,
  },
  entities: { stocktake: { rootField: 'stocktake', id: (p) => p.stocktakeId } },
};

/** One subscriber's field, its arguments checked and bound: what the engine needs, payloads untyped. */
export interface BoundField {
  check(identity: Identity, lookup: Lookup): Promise<void>;
  accepts(payload: unknown, identity: Identity): boolean;
  local(name: string, payload: unknown, streamId: string): unknown;
  entityId(name: string, payload: unknown): string;
}

/** A subscription field as the engine sees it, whatever its argument and payload types. */
export interface ServedField {
  stream: StreamContract;
  eventType: string;
  /** Entity field name → the root query field that loads it. */
  entities: Record<string, string>;
  /** The event's payload checked against its contract; null when it does not match. */
  decode(payload: unknown): unknown;
  /** Checks the arguments (throws BAD_USER_INPUT) and binds them. */
  bind(raw: Record<string, unknown>): BoundField;
}

function served<A, P>(field: SubscriptionField<A, P>): ServedField {
  const schema = field.stream.events[field.eventType]!.schema;
  // The payload reaching the bound functions is the output of this very schema (decode), so it is a P.
  const typed = (payload: unknown) => payload as P;
  return {
    stream: field.stream,
    eventType: field.eventType,
    entities: Object.fromEntries(Object.entries(field.entities).map(([name, e]) => [name, e.rootField])),
    decode: (payload) => {
      const parsed = schema.safeParse(payload);
      return parsed.success ? parsed.data : null;
    },
    bind(raw) {
      const args = field.args(raw);
      return {
        check: async (identity, lookup) => field.check?.(args, identity, lookup),
        accepts: (payload, identity) => field.accepts(typed(payload), args, identity),
        local: (name, payload, streamId) => field.local[name]?.(typed(payload), streamId) ?? null,
        entityId: (name, payload) => field.entities[name]!.id(typed(payload)),
      };
    },
  };
}

/** Subscription root field name → what feeds it. */
export const subscriptionFields: Record<string, ServedField> = {
  stockChanged: served(stockChanged),
  lowStock: served(lowStock),
  orderStatusChanged: served(orderStatusChanged),
  ordersChanged: served(ordersChanged),
  stocktakeProgress: served(stocktakeProgress),
};
