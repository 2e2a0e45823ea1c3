/** Streams and event types inventory publishes and consumes (the other side declares its own copy). */
export const INVENTORY_STREAM = 'inventory';
export const ORDERS_STREAM = 'orders';

export interface OrderLinePayload {
  productId: string;
  quantity: number;
}

export interface OrderPlaced {
  orderId: string;
  items: OrderLinePayload[];
}

export interface OrderRef {
  orderId: string;
}

export interface ShortProduct {
  productId: string;
  requested: number;
  available: number;
}
