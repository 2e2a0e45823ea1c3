import type { Identity } from '@stockgraph/auth';
import { customersStream, publish } from '@stockgraph/contracts';
import { once, type Database, type Transact, type Tx } from '@stockgraph/db';
import { BadUserInputError, ConflictError, NotFoundError, parseIdempotencyKey } from '@stockgraph/graphql-kit';
import { newId } from '@stockgraph/ids';
import { CustomerRepository } from '../db/customer.repository.js';
import type * as schema from '../db/schema.js';
import { idempotencyKeys, outbox, type CustomerRow, type NewCustomerRow } from '../db/schema.js';
import type { CreateCustomerInput, UpdateCustomerInput } from '../generated/resolvers.js';
import { customerFields } from './customer-input.js';

/**
 * Creating and changing customers. Creating one announces it in the same transaction (so orders can
 * accept orders for it); with an idempotency key, a retry returns the customer the first attempt created.
 */
export class CustomerService {
  constructor(
    private readonly db: Database<typeof schema>,
    private readonly transact: Transact<typeof schema>,
  ) {}

  async create(input: CreateCustomerInput, identity: Identity | null): Promise<CustomerRow> {
    const { idempotencyKey, tier, ...text } = input;
    const fields = customerFields(text);
    const now = new Date();
    const row: NewCustomerRow = {
      ...fields,
      name: fields.name!,
      tier: tier ?? 'STANDARD',
      id: newId(now),
      createdAt: now,
      updatedAt: now,
    };
    if (idempotencyKey == null || !identity) return this.transact((tx) => this.insert(tx, row));
    const retry = { userId: identity.userId, key: parseIdempotencyKey(idempotencyKey) };
    const { id: _id, createdAt: _c, updatedAt: _u, ...request } = row;
    return this.transact(async (tx) => {
      let customer: CustomerRow | null = null;
      const result = await once(tx, idempotencyKeys, { ...retry, request }, async () => {
        customer = await this.insert(tx, row);
        return customer.id;
      });
      if (result.outcome === 'conflict')
        throw new ConflictError('idempotencyKey was already used for a different customer');
      return customer ?? (await new CustomerRepository(tx).findByIds([result.id]))[0]!;
    });
  }

  async update(id: string, input: UpdateCustomerInput): Promise<CustomerRow> {
    const { tier, ...text } = input;
    if (tier === null) throw new BadUserInputError('tier cannot be null', 'tier');
    const changes = { ...customerFields(text), ...(tier ? { tier } : {}) };
    const updated = await new CustomerRepository(this.db).update(id, changes);
    if (!updated) throw new NotFoundError('Customer', id);
    return updated;
  }

  private async insert(tx: Tx<typeof schema>, row: NewCustomerRow): Promise<CustomerRow> {
    const customer = await new CustomerRepository(tx).insert(row);
    await publish(tx, outbox, customersStream, 'CustomerCreated', { customerId: customer.id });
    return customer;
  }
}
