import { once, type Database } from '@stockgraph/db';
import { ConflictError } from '@stockgraph/graphql-kit';
import { enqueue } from '@stockgraph/events';
import { CustomerRepository } from './db/customer.repository.js';
import type * as schema from './db/schema.js';
import { idempotencyKeys, outbox, type CustomerRow, type NewCustomerRow } from './db/schema.js';

export const CUSTOMERS_STREAM = 'customers';

/** Creating a customer announces it (in the same transaction) so orders can accept orders for it. */
export class CustomerRegistry {
  constructor(
    private readonly db: Database<typeof schema>,
    private readonly wakeRelay: () => void,
  ) {}

  /** With an idempotency key, a retry returns the customer the first attempt created. */
  async create(row: NewCustomerRow, retry?: { userId: string; key: string }): Promise<CustomerRow> {
    const created = await this.db.transaction(async (tx) => {
      const repository = new CustomerRepository(tx as never);
      const insert = async () => {
        const customer = await repository.insert(row);
        await enqueue(tx as never, outbox, CUSTOMERS_STREAM, [
          { type: 'CustomerCreated', payload: { customerId: customer.id } },
        ]);
        return customer;
      };
      if (!retry) return insert();
      const { id: _id, createdAt: _c, updatedAt: _u, ...request } = row;
      let customer: CustomerRow | null = null;
      const result = await once(
        tx as never,
        idempotencyKeys,
        { ...retry, request },
        async () => (customer = await insert()).id,
      );
      if (result.outcome === 'conflict')
        throw new ConflictError('idempotencyKey was already used for a different customer');
      return customer ?? (await repository.findByIds([result.id]))[0]!;
    });
    this.wakeRelay();
    return created;
  }
}
