import { createHash, randomBytes } from 'node:crypto';
import type { Identity } from '@stockgraph/auth';
import type { Database } from '@stockgraph/db';
import { BadUserInputError, ConflictError, NotFoundError, RateLimitedError, UnauthenticatedError } from '@stockgraph/graphql-kit';
import { newId } from '@stockgraph/ids';
import type { UserRow } from './db/schema.js';
import type * as schema from './db/schema.js';
import { SessionRepository } from './db/session.repository.js';
import { UserWriter, type UserChanges } from './db/user.repository.js';
import { signAccessToken, type SigningKeys } from './keys.js';
import { verifyStoredPassword } from './legacy-password.js';
import { hashPassword } from './passwords.js';

export interface AccountSettings {
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  loginMaxFailures: number;
  loginLockSeconds: number;
}

export interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  user: UserRow;
}

const INVALID_LOGIN = 'Invalid email or password';
/** A client address may fail more often than one account: offices share addresses. */
const ADDRESS_FAILURE_FACTOR = 4;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const newRefreshToken = () => randomBytes(32).toString('base64url');

export function normalizeEmail(email: string): string {
  const trimmed = email.trim().toLowerCase();
  if (trimmed.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(trimmed)) throw new BadUserInputError('email is not a valid address', 'email');
  return trimmed;
}

export function validatePassword(password: string, argument = 'password'): string {
  if (password.length < 10) throw new BadUserInputError(`${argument} must have at least 10 characters`, argument);
  if (password.length > 256) throw new BadUserInputError(`${argument} must have at most 256 characters`, argument);
  return password;
}

function validateName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > 200) throw new BadUserInputError('name must have 1 to 200 characters', 'name');
  return trimmed;
}

/** Sign-in, token refresh and account management of the users service. */
export class Accounts {
  /** Verified against when the email is unknown, so both failures cost one argon2 verification. */
  private readonly dummyHash: Promise<string>;

  constructor(
    private readonly db: Database<typeof schema>,
    private readonly keys: SigningKeys,
    private readonly settings: AccountSettings,
  ) {
    this.dummyHash = hashPassword(randomBytes(16).toString('hex'));
  }

  private inTransaction<T>(work: (sessions: SessionRepository, users: UserWriter) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      const db = tx as unknown as Database<typeof schema>;
      return work(new SessionRepository(db), new UserWriter(db));
    });
  }

  private async issue(user: UserRow, sessionId: string, refreshToken: string): Promise<AuthPayload> {
    const { token, expiresAt } = await signAccessToken(
      this.keys,
      { userId: user.id, role: user.role, sessionId },
      { issuer: this.settings.issuer, audience: this.settings.audience, ttlSeconds: this.settings.accessTokenTtlSeconds },
    );
    return { accessToken: token, refreshToken, expiresAt, user };
  }

  private refreshExpiry(): Date {
    return new Date(Date.now() + this.settings.refreshTokenTtlSeconds * 1000);
  }

  private async assertNotLocked(sessions: SessionRepository, keys: string[]): Promise<void> {
    for (const key of keys) {
      const state = await sessions.throttleState(key);
      if (state?.lockedUntil && state.lockedUntil > new Date()) {
        const seconds = Math.ceil((state.lockedUntil.getTime() - Date.now()) / 1000);
        throw new RateLimitedError(`Too many failed sign-ins; try again in ${seconds} s`, seconds);
      }
    }
  }

  async login(emailInput: string, password: string, clientAddress: string): Promise<AuthPayload> {
    const sessions = new SessionRepository(this.db);
    const writer = new UserWriter(this.db);
    let email: string;
    try {
      email = normalizeEmail(emailInput);
    } catch {
      // A malformed address gets the same answer as a wrong one: nothing to learn from the difference.
      email = '';
    }
    const accountKey = `account:${email}`;
    const addressKey = `address:${clientAddress}`;
    const lockMs = this.settings.loginLockSeconds * 1000;
    await this.assertNotLocked(sessions, [accountKey, addressKey]);
    // Every attempt on an account counts before the password is checked, in one atomic statement:
    // a burst of parallel guesses cannot all slip past the limit while the first is still verifying.
    // Success clears the count.
    if (email && (await sessions.recordFailure(accountKey, this.settings.loginMaxFailures, lockMs)) > this.settings.loginMaxFailures) {
      await this.assertNotLocked(sessions, [accountKey]);
    }
    const user = email ? await writer.findByEmail(email) : null;
    const { valid, upgrade } = await verifyStoredPassword(user?.passwordHash ?? (await this.dummyHash), password.slice(0, 256));
    if (!user || !valid || !user.active) {
      await sessions.recordFailure(addressKey, this.settings.loginMaxFailures * ADDRESS_FAILURE_FACTOR, lockMs);
      throw new UnauthenticatedError(INVALID_LOGIN, { reason: 'INVALID_CREDENTIALS' });
    }
    await sessions.clearFailures(accountKey);
    // A legacy (imported) hash is replaced by argon2id now that we know the password.
    if (upgrade) await writer.update(user.id, { passwordHash: upgrade });
    const refreshToken = newRefreshToken();
    const sessionId = newId();
    await sessions.create({ id: sessionId, userId: user.id, expiresAt: this.refreshExpiry() }, sha256(refreshToken));
    return this.issue(user, sessionId, refreshToken);
  }

  /**
   * Exchanges a refresh token for a new pair. A token is good once: presenting a used one means it
   * was copied, so the whole session (the token family) is revoked, the thief's tokens included.
   */
  async refresh(refreshToken: string): Promise<AuthPayload> {
    if (refreshToken.length < 20 || refreshToken.length > 200) throw new UnauthenticatedError('Invalid refresh token', { reason: 'REFRESH_TOKEN_INVALID' });
    const outcome = await this.inTransaction(async (sessions, users) => {
      const state = await sessions.lockRefreshToken(sha256(refreshToken));
      if (!state) return { error: 'REFRESH_TOKEN_INVALID' as const };
      if (state.usedAt) {
        await sessions.revoke(state.session.id, 'refresh token reused');
        return { error: 'REFRESH_TOKEN_REUSED' as const };
      }
      if (state.session.revokedAt || state.session.expiresAt <= new Date() || !state.userActive) {
        return { error: 'REFRESH_TOKEN_REVOKED' as const };
      }
      const next = newRefreshToken();
      await sessions.rotate(state.tokenHash, sha256(next), state.session.id, this.refreshExpiry());
      const user = await users.findById(state.session.userId);
      return { user: user!, sessionId: state.session.id, next };
    });
    if ('error' in outcome) {
      throw new UnauthenticatedError(outcome.error === 'REFRESH_TOKEN_REUSED' ? 'Refresh token already used; the session is revoked' : 'Invalid refresh token', {
        reason: outcome.error,
      });
    }
    return this.issue(outcome.user, outcome.sessionId, outcome.next);
  }

  /** Ends the caller's session that `refreshToken` belongs to; false when it is not one of theirs. */
  async logout(identity: Identity, refreshToken: string): Promise<boolean> {
    return this.inTransaction(async (sessions) => {
      const state = await sessions.lockRefreshToken(sha256(refreshToken));
      if (!state || state.session.userId !== identity.userId) return false;
      await sessions.revoke(state.session.id, 'logout');
      return true;
    });
  }

  async isSessionLive(identity: Identity): Promise<boolean> {
    return new SessionRepository(this.db).isLive(identity.sessionId, identity.userId);
  }

  async createUser(input: { email: string; name: string; role: UserRow['role']; password: string }): Promise<UserRow> {
    const email = normalizeEmail(input.email);
    const passwordHash = await hashPassword(validatePassword(input.password));
    const now = new Date();
    const created = await new UserWriter(this.db).insert({ id: newId(now), email, name: validateName(input.name), role: input.role, passwordHash, createdAt: now, updatedAt: now });
    if (!created) throw new ConflictError(`A user with email ${email} already exists`);
    return created;
  }

  /** Role changes and deactivation end the user's sessions: their tokens carry the old rights. */
  async updateUser(id: string, input: { name?: string | null; role?: UserRow['role'] | null; active?: boolean | null }): Promise<UserRow> {
    return this.inTransaction(async (sessions, users) => {
      const current = await users.findById(id);
      if (!current) throw new NotFoundError('User', id);
      const changes: UserChanges = {};
      if (input.name != null) changes.name = validateName(input.name);
      if (input.role != null) changes.role = input.role;
      if (input.active != null) changes.active = input.active;
      const updated = (await users.update(id, changes))!;
      if (changes.active === false && current.active) await sessions.revokeAllOf(id, 'user deactivated');
      if (changes.role && changes.role !== current.role) await sessions.revokeAllOf(id, 'role changed');
      return updated;
    });
  }

  /** Changing the password signs out every other session of the user. */
  async changePassword(identity: Identity, currentPassword: string, newPassword: string): Promise<boolean> {
    validatePassword(newPassword, 'newPassword');
    const user = await new UserWriter(this.db).findById(identity.userId);
    if (!user || !(await verifyStoredPassword(user.passwordHash, currentPassword.slice(0, 256))).valid) {
      throw new BadUserInputError('currentPassword is not correct', 'currentPassword');
    }
    const passwordHash = await hashPassword(newPassword);
    await this.inTransaction(async (sessions, users) => {
      await users.update(identity.userId, { passwordHash });
      await sessions.revokeAllOf(identity.userId, 'password changed', identity.sessionId);
    });
    return true;
  }
}
