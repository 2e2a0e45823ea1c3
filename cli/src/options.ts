import { InvalidArgumentError } from 'commander';

/** A flag's value that must be a whole number of at least 1 (commander reports the rest as misuse). */
export const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};
