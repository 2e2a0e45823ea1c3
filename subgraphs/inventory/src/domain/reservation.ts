import type { OrderLine } from '../db/stock.repository.js';

export interface ShortProduct {
  productId: string;
  requested: number;
  available: number;
}

/** Lines in one product order for every transaction, so concurrent reservations cannot deadlock. */
export function inLockOrder(lines: readonly OrderLine[]): OrderLine[] {
  return [...lines].sort((a, b) => a.productId.localeCompare(b.productId));
}

/** The lines stock cannot cover, with what is available (never negative; unknown products have none). */
export function shortfall(lines: readonly OrderLine[], available: ReadonlyMap<string, number>): ShortProduct[] {
  return lines
    .filter((l) => (available.get(l.productId) ?? 0) < l.quantity)
    .map((l) => ({
      productId: l.productId,
      requested: l.quantity,
      available: Math.max(0, available.get(l.productId) ?? 0),
    }));
}

/** The ledger rows ending a reservation: its release, and with `sold` the sale leaving on-hand stock. */
export function endingMovements(lines: readonly OrderLine[], orderId: string, sold: boolean) {
  return lines.flatMap((l) => [
    { productId: l.productId, delta: -l.quantity, reason: 'RELEASE' as const, orderId },
    ...(sold ? [{ productId: l.productId, delta: -l.quantity, reason: 'SALE' as const, orderId }] : []),
  ]);
}
