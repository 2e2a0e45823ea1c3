import { consume, customersStream } from '@stockgraph/contracts';
import type { Tx } from '@stockgraph/db';
import { OrderWriter } from '../db/order-writer.repository.js';
import type * as schema from '../db/schema.js';

/** The customers placing an order relies on, remembered inside the consumer's transaction. */
export const applyCustomersEvent = consume<typeof customersStream, Tx<typeof schema>>(customersStream, {
  CustomerCreated: ({ customerId }, _meta, tx) => new OrderWriter(tx).rememberCustomer(customerId),
});
