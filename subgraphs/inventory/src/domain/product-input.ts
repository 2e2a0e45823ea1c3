import { BadUserInputError } from '@stockgraph/graphql-kit';

const MONEY = /^\d{1,10}(\.\d{1,2})?$/;
export const MAX_UNITS = 1_000_000;

/** A price: non-negative, at most two decimals, as the string the database stores. */
export function money(value: string | null | undefined, argument: string): string | null | undefined {
  if (value == null) return value;
  if (!MONEY.test(value))
    throw new BadUserInputError(`${argument} must be a non-negative amount with at most 2 decimals`, argument);
  return value;
}

/** Trimmed text of at most `max` characters; `required` refuses null and blank. */
export function text(
  value: string | null | undefined,
  argument: string,
  max: number,
  required = false,
): string | null | undefined {
  if (value == null) {
    if (required && value === null) throw new BadUserInputError(`${argument} cannot be null`, argument);
    return value;
  }
  const trimmed = value.trim();
  if ((required && trimmed.length === 0) || trimmed.length > max)
    throw new BadUserInputError(`${argument} must have 1 to ${max} characters`, argument);
  return trimmed;
}

/** A whole, non-zero number of units (negative only with `allowNegative`). */
export function units(value: number, argument: string, allowNegative = false): number {
  if (!Number.isInteger(value) || value === 0 || Math.abs(value) > MAX_UNITS || (!allowNegative && value < 0)) {
    throw new BadUserInputError(
      `${argument} must be a whole number of units, ${allowNegative ? 'not 0' : 'at least 1'}, at most ${MAX_UNITS} in size`,
      argument,
    );
  }
  return value;
}
