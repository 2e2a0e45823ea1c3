import { BadUserInputError } from '@stockgraph/graphql-kit';

/** Lower-cased and trimmed, so one address is one account however it is typed. */
export function normalizeEmail(email: string): string {
  const trimmed = email.trim().toLowerCase();
  if (trimmed.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(trimmed))
    throw new BadUserInputError('email is not a valid address', 'email');
  return trimmed;
}

/** At least 10 characters (length beats composition rules); at most 256, which bounds hashing work. */
export function validatePassword(password: string, argument = 'password'): string {
  if (password.length < 10) throw new BadUserInputError(`${argument} must have at least 10 characters`, argument);
  if (password.length > 256) throw new BadUserInputError(`${argument} must have at most 256 characters`, argument);
  return password;
}

export function validateName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > 200)
    throw new BadUserInputError('name must have 1 to 200 characters', 'name');
  return trimmed;
}
