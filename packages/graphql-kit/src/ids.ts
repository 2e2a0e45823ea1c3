import { isUuid } from '@stockgraph/ids';
import { BadUserInputError } from './errors.js';

/** Rejects a malformed id before it reaches SQL, naming the argument. */
export function parseId(value: string, argument = 'id'): string {
  if (!isUuid(value)) throw new BadUserInputError(`${argument} must be a UUID`, argument);
  return value.toLowerCase();
}
