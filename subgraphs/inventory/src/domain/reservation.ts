import type { OrderLine } from '../db/stock.repository.js';

/**
 * Lines in one product order for every transaction, so concurrent reservations cannot deadlock: the
 * order PostgreSQL sorts the (lower-case) uuids in, which `reserveOrder` locks by.
 */
export function inLockOrder(lines: readonly OrderLine[]): OrderLine[] {
  return [...lines].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
}

/** The ledger rows ending a reservation: its release, and with `sold` the sale leaving on-hand stock. */
export function endingMovements(lines: readonly OrderLine[], orderId: string, sold: boolean) {
  return lines.flatMap((l) => [
    { productId: l.productId, delta: -l.quantity, reason: 'RELEASE' as const, orderId },
    ...(sold ? [{ productId: l.productId, delta: -l.quantity, reason: 'SALE' as const, orderId }] : []),
  ]);
}
