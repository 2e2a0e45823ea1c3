import { isUsableId } from '@stockgraph/ids';
import { BadUserInputError } from './errors.js';

/** Rejects a malformed id before it reaches SQL, naming the argument. */
export function parseId(value: string, argument = 'id'): string {
  if (!isUsableId(value)) throw new BadUserInputError(`${argument} must be a UUID`, argument);
  return value.toLowerCase();
}

/** A client's idempotency key: 8 to 128 printable ASCII characters (a UUID is ideal). */
export function parseIdempotencyKey(value: string, argument = 'idempotencyKey'): string {
  if (!/^[\x21-\x7e]{8,128}$/.test(value)) {
    throw new BadUserInputError(`${argument} must be 8 to 128 printable ASCII characters (a UUID is ideal)`, argument);
  }
  return value;
}
