/**
 * Passwords imported from the legacy store (`stockgraph import sqlite`) keep their old hash,
 * `sha256$<salt>$<hex of sha256(salt bytes || password UTF-8 bytes)>`, so their owners can still sign
 * in. That hash is fast to guess, so the first successful sign-in replaces it with argon2id.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { hashPassword, verifyPassword } from './passwords.js';

const LEGACY = /^sha256\$([^$]*)\$([0-9a-f]{64})$/;

export function isLegacyHash(passwordHash: string): boolean {
  return LEGACY.test(passwordHash);
}

function verifyLegacy(passwordHash: string, password: string): boolean {
  const [, salt = '', hex = ''] = LEGACY.exec(passwordHash) ?? [];
  const computed = createHash('sha256')
    .update(Buffer.concat([Buffer.from(salt, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest();
  return timingSafeEqual(computed, Buffer.from(hex, 'hex'));
}

/**
 * Verifies against either kind of stored hash. `upgrade` is the argon2id hash to store when the
 * password was right and the stored hash was a legacy one. Either way one argon2 operation runs: a
 * wrong password for a legacy account answered after one SHA-256 was twice as fast as for any other
 * account or an unknown email, which told an attacker which accounts still had the weak hash.
 */
export async function verifyStoredPassword(
  passwordHash: string,
  password: string,
  /** An argon2id hash of nothing anyone knows, to spend that verification on. */
  decoy: Promise<string>,
): Promise<{ valid: boolean; upgrade?: string }> {
  if (!isLegacyHash(passwordHash)) return { valid: await verifyPassword(passwordHash, password) };
  if (!verifyLegacy(passwordHash, password)) {
    await verifyPassword(await decoy, password);
    return { valid: false };
  }
  return { valid: true, upgrade: await hashPassword(password) };
}
