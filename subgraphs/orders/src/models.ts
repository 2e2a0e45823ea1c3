import type { Connection } from '@stockgraph/graphql-kit';
import type { OrderFilter, OrderStatus } from './db/order.repository.js';
import type { OrderRow } from './db/schema.js';

/** `totalCount` is resolved only when selected, from what the connection carries. */
export type OrderConnection = Connection<OrderRow> &
  ({ filter: OrderFilter & { archived?: boolean } } | { customerId: string; status: OrderStatus | null });
export type CustomerReference = { id: string };
export type ProductReference = { id: string };
export type UserReference = { id: string };
export type RejectedProductModel = { productId: string; requested: number; available: number };
