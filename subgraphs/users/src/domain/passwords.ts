import { hash, verify } from '@node-rs/argon2';

// argon2id with OWASP's minimum profile (19 MiB, 2 passes): memory-hard, so offline guessing is costly.
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

let operations = 0;

/**
 * argon2 hashes and verifications run by this process. Every sign-in attempt costs exactly one, whatever
 * the account (argon2id, legacy hash, none): that is what keeps their timing alike.
 */
export function argon2Operations(): number {
  return operations;
}

export function hashPassword(password: string): Promise<string> {
  operations++;
  return hash(password, OPTIONS);
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  operations++;
  return verify(passwordHash, password);
}
