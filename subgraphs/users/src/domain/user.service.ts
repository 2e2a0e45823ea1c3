import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Identity } from '@stockgraph/auth';
import type { Database, Transact } from '@stockgraph/db';
import { BadUserInputError, ConflictError, NotFoundError, UnauthenticatedError } from '@stockgraph/graphql-kit';
import { newId } from '@stockgraph/ids';
import type { UserRow } from '../db/schema.js';
import type * as schema from '../db/schema.js';
import { SessionRepository } from '../db/session.repository.js';
import { UserRepository, type UserChanges } from '../db/user.repository.js';
import { verifyStoredPassword } from './legacy-password.js';
import { hashPassword } from './passwords.js';
import { SignInThrottle, type AttemptOutcome } from './sign-in-throttle.js';
import { signAccessToken, type SigningKeys } from './signing-keys.js';
import { normalizeEmail, validateName, validatePassword } from './user-input.js';

/** What sign-in needs besides the database: where ended sessions go, and the attempt metrics. */
export interface AccountHooks {
  /** Ended sessions are published here (the revocation list every service reads). */
  revoked?: (sessionIds: string[]) => Promise<void>;
  attempt?: (kind: 'sign_in' | 'password_change', outcome: AttemptOutcome) => void;
}

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

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const newRefreshToken = () => randomBytes(32).toString('base64url');

/**
 * The user aggregate: accounts and their sessions. Sign-in, token refresh, sign-out and account
 * management; created once per process by the bootstrap hook.
 */
export class UserService {
  /** Verified against when the email is unknown, so both failures cost one argon2 verification. */
  private readonly dummyHash: Promise<string>;
  readonly throttle: SignInThrottle;

  constructor(
    private readonly db: Database<typeof schema>,
    private readonly transact: Transact<typeof schema>,
    private readonly keys: SigningKeys,
    private readonly settings: AccountSettings,
    private readonly hooks: AccountHooks = {},
  ) {
    this.dummyHash = hashPassword(randomBytes(16).toString('hex'));
    this.throttle = new SignInThrottle(db, {
      maxFailures: settings.loginMaxFailures,
      lockSeconds: settings.loginLockSeconds,
    });
  }

  /** Publishes ended sessions after their transaction committed. */
  private async ended(sessionIds: string[]): Promise<void> {
    if (sessionIds.length > 0) await this.hooks.revoked?.(sessionIds);
  }

  /** Runs a throttled check and counts its outcome in the metrics. */
  private async counted<T>(kind: 'sign_in' | 'password_change', work: () => Promise<T>): Promise<T> {
    try {
      const result = await work();
      this.hooks.attempt?.(kind, 'success');
      return result;
    } catch (error) {
      const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
      if (code === 'RATE_LIMITED' || code === 'UNAUTHENTICATED' || code === 'BAD_USER_INPUT') {
        this.hooks.attempt?.(kind, code === 'RATE_LIMITED' ? 'locked' : 'invalid');
      }
      throw error;
    }
  }

  private inTransaction<T>(work: (sessions: SessionRepository, users: UserRepository) => Promise<T>): Promise<T> {
    return this.transact((tx) => work(new SessionRepository(tx), new UserRepository(tx)));
  }

  private async issue(user: UserRow, sessionId: string, refreshToken: string): Promise<AuthPayload> {
    const { token, expiresAt } = await signAccessToken(
      this.keys,
      { userId: user.id, role: user.role, sessionId },
      {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        ttlSeconds: this.settings.accessTokenTtlSeconds,
      },
    );
    return { accessToken: token, refreshToken, expiresAt, user };
  }

  private refreshExpiry(): Date {
    return new Date(Date.now() + this.settings.refreshTokenTtlSeconds * 1000);
  }

  async login(emailInput: string, password: string, clientAddress: string): Promise<AuthPayload> {
    return this.counted('sign_in', () => this.checkedLogin(emailInput, password, clientAddress));
  }

  private async checkedLogin(emailInput: string, password: string, clientAddress: string): Promise<AuthPayload> {
    const sessions = new SessionRepository(this.db);
    const users = new UserRepository(this.db);
    let email: string;
    try {
      email = normalizeEmail(emailInput);
    } catch {
      // A malformed address gets the same answer as a wrong one: nothing to learn from the difference.
      email = '';
    }
    // Attempts count before the password is checked (see SignInThrottle): parallel guesses get no more tries.
    await this.throttle.beforeSignIn(email, clientAddress);
    const user = email ? await users.findByEmail(email) : null;
    const { valid, upgrade } = await verifyStoredPassword(
      user?.passwordHash ?? (await this.dummyHash),
      password.slice(0, 256),
      this.dummyHash,
    );
    if (!user || !valid || !user.active) {
      await this.throttle.signInFailed(email, clientAddress);
      throw new UnauthenticatedError(INVALID_LOGIN, { reason: 'INVALID_CREDENTIALS' });
    }
    await this.throttle.signInSucceeded(email, clientAddress);
    // A legacy (imported) hash is replaced by argon2id now that we know the password.
    if (upgrade) await users.update(user.id, { passwordHash: upgrade });
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
    if (refreshToken.length < 20 || refreshToken.length > 200)
      throw new UnauthenticatedError('Invalid refresh token', { reason: 'REFRESH_TOKEN_INVALID' });
    const outcome = await this.inTransaction(async (sessions, users) => {
      const state = await sessions.lockRefreshToken(sha256(refreshToken));
      if (!state) return { error: 'REFRESH_TOKEN_INVALID' as const };
      if (state.usedAt) {
        await sessions.revoke(state.session.id, 'refresh token reused');
        return { error: 'REFRESH_TOKEN_REUSED' as const, ended: state.session.id };
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
      if ('ended' in outcome && outcome.ended) await this.ended([outcome.ended]);
      throw new UnauthenticatedError(
        outcome.error === 'REFRESH_TOKEN_REUSED'
          ? 'Refresh token already used; the session is revoked'
          : 'Invalid refresh token',
        {
          reason: outcome.error,
        },
      );
    }
    return this.issue(outcome.user, outcome.sessionId, outcome.next);
  }

  /** Ends the caller's session that `refreshToken` belongs to; false when it is not one of theirs. */
  async logout(identity: Identity, refreshToken: string): Promise<boolean> {
    const ended = await this.inTransaction(async (sessions) => {
      const state = await sessions.lockRefreshToken(sha256(refreshToken));
      if (!state || state.session.userId !== identity.userId) return null;
      await sessions.revoke(state.session.id, 'logout');
      return state.session.id;
    });
    if (ended) await this.ended([ended]);
    return ended !== null;
  }

  async isSessionLive(identity: Identity): Promise<boolean> {
    return new SessionRepository(this.db).isLive(identity.sessionId, identity.userId);
  }

  async createUser(input: { email: string; name: string; role: UserRow['role']; password: string }): Promise<UserRow> {
    const email = normalizeEmail(input.email);
    const passwordHash = await hashPassword(validatePassword(input.password));
    const now = new Date();
    const created = await new UserRepository(this.db).insert({
      id: newId(now),
      email,
      name: validateName(input.name),
      role: input.role,
      passwordHash,
      createdAt: now,
      updatedAt: now,
    });
    if (!created) throw new ConflictError(`A user with email ${email} already exists`);
    return created;
  }

  /** Role changes and deactivation end the user's sessions: their tokens carry the old rights. */
  async updateUser(
    id: string,
    input: { name?: string | null; role?: UserRow['role'] | null; active?: boolean | null },
  ): Promise<UserRow> {
    const ended: string[] = [];
    const updated = await this.inTransaction(async (sessions, users) => {
      const current = await users.findById(id);
      if (!current) throw new NotFoundError('User', id);
      const changes: UserChanges = {};
      if (input.name != null) changes.name = validateName(input.name);
      if (input.role != null) changes.role = input.role;
      if (input.active != null) changes.active = input.active;
      const updated = (await users.update(id, changes))!;
      if (changes.active === false && current.active)
        ended.push(...(await sessions.revokeAllOf(id, 'user deactivated')));
      if (changes.role && changes.role !== current.role)
        ended.push(...(await sessions.revokeAllOf(id, 'role changed')));
      return updated;
    });
    await this.ended(ended);
    return updated;
  }

  /** Changing the password signs out every other session of the user. */
  async changePassword(identity: Identity, currentPassword: string, newPassword: string): Promise<boolean> {
    validatePassword(newPassword, 'newPassword');
    // A stolen access token must not buy unlimited guesses of the current password (then a takeover).
    await this.counted('password_change', async () => {
      await this.throttle.beforePasswordCheck(identity.userId);
      const user = await new UserRepository(this.db).findById(identity.userId);
      if (
        !user ||
        !(await verifyStoredPassword(user.passwordHash, currentPassword.slice(0, 256), this.dummyHash)).valid
      ) {
        throw new BadUserInputError('currentPassword is not correct', 'currentPassword');
      }
      await this.throttle.passwordCheckSucceeded(identity.userId);
    });
    const passwordHash = await hashPassword(newPassword);
    const ended = await this.inTransaction(async (sessions, users) => {
      await users.update(identity.userId, { passwordHash });
      return sessions.revokeAllOf(identity.userId, 'password changed', identity.sessionId);
    });
    await this.ended(ended);
    return true;
  }

  /**
   * Admin: clears the sign-in locks of an account (a user locked out by someone else's guesses) and,
   * given a client address, that address's lock (one locked for failing on many accounts).
   */
  async unlockSignIn(emailInput: string, addressInput?: string | null): Promise<boolean> {
    const address = addressInput?.trim();
    if (address !== undefined && isIP(address) === 0)
      throw new BadUserInputError('address must be an IPv4 or IPv6 address', 'address');
    return this.throttle.unlock(normalizeEmail(emailInput), address);
  }

  /**
   * Housekeeping: forgets sign-in counts and locks that ran out, sessions ended more than
   * `retentionMs` ago with their refresh tokens, and refresh tokens exchanged before then, `batch`
   * rows at a time. Returns how many rows went.
   */
  async purgeEnded(retentionMs: number, batch: number): Promise<number> {
    const throttle = await this.throttle.purgeExpired(batch);
    const sessions = await new SessionRepository(this.db).purgeEnded(new Date(Date.now() - retentionMs), batch);
    return throttle + sessions;
  }
}
