/** Streams orders publishes to and consumes from. */
export const ORDERS_STREAM = 'orders';
export const INVENTORY_STREAM = 'inventory';
export const CUSTOMERS_STREAM = 'customers';
