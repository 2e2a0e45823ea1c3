import type { StreamEntry } from '@stockgraph/events';
import { anyOf, entityTag, someOf } from './entities.js';
import { STOCK_FILTERED_PRODUCTS } from './policy.js';

/**
 * What each event the subgraphs publish changes, as cache tags: the entity it names (answers holding
 * it), and its type where lists of that type may gain, lose or reorder members (answers holding such a
 * list carry the bare type: policy.ts). Events that change nothing a query returns are absent.
 */
type Payload = Record<string, unknown>;
const str = (value: unknown) => (typeof value === 'string' ? value : null);

const RULES: Record<string, (payload: Payload) => (string | null)[]> = {
  ProductCreated: () => ['Product'],
  ProductPriceChanged: (p) => [...product(p), 'Product', 'PriceChange'],
  ProductUpdated: (p) => [...product(p), 'Product'],
  // Stock decides membership only of `products(filter: { lowStock })` (policy.ts tags those lists): they
  // are dropped when the change may have moved the product across its reorder level.
  StockChanged: (p) => [...product(p), 'StockMovement', mayCrossReorderLevel(p) ? STOCK_FILTERED_PRODUCTS : null],
  OrderPlaced: () => ['Order'],
  OrderStatusChanged: (p) => [...order(p), 'Order'],
  OrderCancelled: (p) => [...order(p), 'Order'],
  OrderFulfilled: (p) => [...order(p), 'Order'],
  CustomerCreated: () => ['Customer'],
};

/** A change of one entity: answers holding it, and answers holding one of its type without its id. */
function changed(type: string, id: string | null): string[] {
  return id ? [entityTag(type, id), someOf(type)] : [anyOf(type)];
}

const product = (payload: Payload) => changed('Product', str(payload.productId));
const order = (payload: Payload) => changed('Order', str(payload.orderId));

function mayCrossReorderLevel(payload: Payload): boolean {
  const { available, delta, reorderLevel } = payload;
  if (typeof available !== 'number' || typeof delta !== 'number' || typeof reorderLevel !== 'number') return true;
  // Whether `delta` moved on-hand or reserved units, the level before was within |delta| of today's.
  return available - Math.abs(delta) <= reorderLevel;
}

/** The streams whose events drop cached answers. */
export const INVALIDATING_STREAMS = ['inventory', 'orders', 'customers'] as const;

export function tagsOfEvent(entry: { envelope: Pick<StreamEntry['envelope'], 'type' | 'payload'> }): string[] {
  const rule = RULES[entry.envelope.type];
  if (!rule) return [];
  const payload = entry.envelope.payload;
  if (payload === null || typeof payload !== 'object') return [];
  return rule(payload as Payload).filter((tag): tag is string => tag !== null);
}

/**
 * What a mutation's answer says changed (its entityTags): every entity in it, with its type's lists (a
 * created or renamed entity joins or moves in them) and the answers holding one of its type without an
 * id; an entity returned without its id stands for any of its type. Applied before the answer leaves,
 * so the caller's next read does not find what it just changed.
 */
export function tagsOfMutation(entities: Iterable<string>): string[] {
  const tags = new Set<string>();
  for (const tag of entities) {
    const separator = tag.indexOf(':');
    const type = separator < 0 ? tag : tag.slice(0, separator);
    const id = separator < 0 ? null : tag.slice(separator + 1);
    if (id === '*') continue;
    tags.add(type);
    if (id === '~') tags.add(anyOf(type));
    else if (id !== null) tags.add(tag).add(someOf(type));
  }
  return [...tags];
}
