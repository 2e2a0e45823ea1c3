import { BadUserInputError, NotFoundError, parseId, parseIdempotencyKey } from '@stockgraph/graphql-kit';
import { newId } from '@stockgraph/ids';
import { normalizePhone } from '../db/customer.repository.js';
import type { NewCustomerRow } from '../db/schema.js';
import type { MutationResolvers } from '../generated/resolvers.js';

const LIMITS = { name: 200, phone: 32, email: 254, address: 500, notes: 2000 } as const;

/** Trims and bounds the text fields; an explicit null clears an optional field, undefined leaves it. */
function clean(input: Partial<Record<keyof typeof LIMITS, string | null | undefined>>): Partial<NewCustomerRow> {
  const out: Partial<Record<keyof typeof LIMITS, string | null>> = {};
  for (const key of Object.keys(LIMITS) as (keyof typeof LIMITS)[]) {
    const value = input[key];
    if (value === undefined) continue;
    if (value === null) {
      if (key === 'name') throw new BadUserInputError('name cannot be null', 'name');
      out[key] = null;
      continue;
    }
    const trimmed = value.trim();
    if (trimmed.length > LIMITS[key])
      throw new BadUserInputError(`${key} is limited to ${LIMITS[key]} characters`, key);
    if (key === 'name' && trimmed.length === 0) throw new BadUserInputError('name must not be empty', 'name');
    if (key === 'email' && trimmed && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(trimmed))
      throw new BadUserInputError('email is not a valid address', 'email');
    if (key === 'phone') {
      const phone = normalizePhone(trimmed);
      if (phone && !/^\+?\d{5,20}$/.test(phone)) throw new BadUserInputError('phone must have 5 to 20 digits', 'phone');
      out.phone = phone || null;
      continue;
    }
    out[key] = key === 'name' ? trimmed : trimmed || null;
  }
  return out as Partial<NewCustomerRow>;
}

export const Mutation: MutationResolvers = {
  createCustomer: async (_parent, { input }, { registry, identity }) => {
    const now = new Date();
    const { idempotencyKey, ...rest } = input;
    const fields = clean(rest);
    const retry =
      idempotencyKey != null && identity
        ? { userId: identity.userId, key: parseIdempotencyKey(idempotencyKey) }
        : undefined;
    return registry.create(
      { ...fields, name: fields.name!, tier: input.tier ?? 'STANDARD', id: newId(now), createdAt: now, updatedAt: now },
      retry,
    );
  },

  updateCustomer: async (_parent, { id, input }, { loaders }) => {
    const customerId = parseId(id);
    if (input.tier === null) throw new BadUserInputError('tier cannot be null', 'tier');
    const changes = { ...clean(input), ...(input.tier ? { tier: input.tier } : {}) };
    const updated = await loaders.repository.update(customerId, changes);
    if (!updated) throw new NotFoundError('Customer', customerId);
    return updated;
  },
};
