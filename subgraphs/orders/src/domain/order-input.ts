import { BadUserInputError, parseIdempotencyKey } from '@stockgraph/graphql-kit';
import { isUuid } from '@stockgraph/ids';

export const MAX_LINES = 50;
export const MAX_QUANTITY = 10_000;

export interface PlaceOrderInput {
  customerId: string;
  items: { productId: string; quantity: number }[];
  idempotencyKey: string;
}

/** A valid order request in one canonical form: lower-case ids, lines sorted by product. */
export interface OrderRequest {
  customerId: string;
  items: { productId: string; quantity: number }[];
}

/**
 * Checks an order before anything is written and puts it in canonical form, so that a retry with the
 * lines in another order or ids in another case is recognised as the same request.
 */
export function validateOrder(input: PlaceOrderInput): OrderRequest {
  parseIdempotencyKey(input.idempotencyKey);
  if (!isUuid(input.customerId)) throw new BadUserInputError('customerId must be a UUID', 'customerId');
  if (input.items.length === 0) throw new BadUserInputError('an order needs at least one item', 'items');
  if (input.items.length > MAX_LINES) throw new BadUserInputError(`an order has at most ${MAX_LINES} items`, 'items');
  const seen = new Set<string>();
  for (const [i, item] of input.items.entries()) {
    if (!isUuid(item.productId)) throw new BadUserInputError(`items[${i}].productId must be a UUID`, 'items');
    const id = item.productId.toLowerCase();
    if (seen.has(id)) throw new BadUserInputError(`product ${id} appears twice; give one line per product`, 'items');
    seen.add(id);
    if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > MAX_QUANTITY) {
      throw new BadUserInputError(`items[${i}].quantity must be between 1 and ${MAX_QUANTITY}`, 'items');
    }
  }
  return {
    customerId: input.customerId.toLowerCase(),
    items: input.items
      .map((i) => ({ productId: i.productId.toLowerCase(), quantity: i.quantity }))
      .sort((a, b) => a.productId.localeCompare(b.productId)),
  };
}
