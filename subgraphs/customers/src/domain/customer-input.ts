import { BadUserInputError } from '@stockgraph/graphql-kit';

/** The text a customer may carry, each bounded so one row cannot grow without limit. */
const LIMITS = { name: 200, phone: 32, email: 254, address: 500, notes: 2000 } as const;
type Field = keyof typeof LIMITS;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?\d{5,20}$/;
const MAX_SEARCH = 200;

/** Validated changes to a customer: a field left out stays, null clears an optional one. */
export interface CustomerFields {
  name?: string;
  phone?: string | null;
  email?: string | null;
  address?: string | null;
  notes?: string | null;
}

/** Keeps + and digits: "+86 138-0000 0000" and "+8613800000000" are the same phone. */
export function normalizePhone(phone: string): string {
  return phone.replace(/[^\d+]/g, '');
}

/** Trimmed and within its limit; null and undefined pass through. */
function bounded(value: string | null | undefined, field: Field): string | null | undefined {
  if (value == null) return value;
  const trimmed = value.trim();
  if (trimmed.length > LIMITS[field])
    throw new BadUserInputError(`${field} is limited to ${LIMITS[field]} characters`, field);
  return trimmed;
}

/**
 * Trims, bounds and checks the text fields of a create or update; phones are stored normalised.
 * An explicit null clears an optional field, undefined leaves it as it is.
 */
export function customerFields(input: Partial<Record<Field, string | null | undefined>>): CustomerFields {
  const fields: CustomerFields = {};
  if (input.name === null) throw new BadUserInputError('name cannot be null', 'name');
  const name = bounded(input.name, 'name');
  if (name !== undefined) {
    if (!name) throw new BadUserInputError('name must not be empty', 'name');
    fields.name = name;
  }
  const phone = bounded(input.phone, 'phone');
  if (phone !== undefined) {
    const normalized = normalizePhone(phone ?? '');
    if (normalized && !PHONE.test(normalized)) throw new BadUserInputError('phone must have 5 to 20 digits', 'phone');
    fields.phone = normalized || null;
  }
  const email = bounded(input.email, 'email');
  if (email !== undefined) {
    if (email && !EMAIL.test(email)) throw new BadUserInputError('email is not a valid address', 'email');
    fields.email = email || null;
  }
  for (const field of ['address', 'notes'] as const) {
    const value = bounded(input[field], field);
    if (value !== undefined) fields[field] = value || null;
  }
  return fields;
}

/** A phone to look a customer up by: it must at least contain a digit. */
export function phoneQuery(phone: string): string {
  if (phone.length > 64 || !/\d/.test(phone)) throw new BadUserInputError('phone must contain digits', 'phone');
  return normalizePhone(phone);
}

/** A customer search term, bounded like the fields it searches. */
export function searchTerm(search: string | null | undefined): string | null {
  if (search && search.length > MAX_SEARCH)
    throw new BadUserInputError(`search is limited to ${MAX_SEARCH} characters`, 'search');
  return search ?? null;
}
