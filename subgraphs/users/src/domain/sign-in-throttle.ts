import type { Database } from '@stockgraph/db';
import { RateLimitedError } from '@stockgraph/graphql-kit';
import { LoginThrottleRepository, type LockShape } from '../db/login-throttle.repository.js';
import type * as schema from '../db/schema.js';

export interface ThrottleSettings {
  /** Failures of one account from one source before that source is locked out of it. */
  maxFailures: number;
  /** The first lock; each further failure doubles it, up to MAX_LOCK_MS. */
  lockSeconds: number;
}

/** Outcomes counted in the sign-in and password-change metrics: a fixed set, never an email. */
export type AttemptOutcome = 'success' | 'invalid' | 'locked';

/** A source may fail more often than one account from it: offices share addresses. */
const SOURCE_FACTOR = 4;
/** Failures of one account from all sources that mark it as under attack. */
const ACCOUNT_FACTOR = 4;
const MAX_LOCK_MS = 24 * 3600_000;
/** Counts start again this long after a key's first failure. */
const WINDOW_MS = 24 * 3600_000;
/** A source the user signed in from successfully stays "known good" this long. */
const KNOWN_SOURCE_MS = 30 * 86_400_000;

const keys = (email: string, source: string) => ({
  source: `address:${source}`,
  pair: `pair:${email}|${source}`,
  account: `account:${email}`,
  known: `known:${email}|${source}`,
});

/**
 * Sign-in throttling an attacker cannot turn against the victim.
 *
 * - Per account and source: `maxFailures` failures of one account from one client address lock that
 *   address out of that account, for `lockSeconds`, doubling with every further failure (24 h at most).
 *   Counted before the password is checked, so a burst of parallel guesses gets no more tries.
 * - Per source: an address failing on many accounts (4 × maxFailures) is locked out of all of them.
 * - Per account: 4 × maxFailures failures from anywhere mark the account as under attack; then every
 *   source that has failed on it is locked out (exponentially), except sources the user has signed in
 *   from successfully in the last 30 days. A source that never failed still gets its tries, so the real
 *   user gets in from their usual place or a new one; an attacker's addresses run into their own locks.
 * - An admin clears an account's locks with `unlockSignIn(email)`.
 */
export class SignInThrottle {
  private readonly settings: ThrottleSettings;
  private readonly store: LoginThrottleRepository;
  private readonly shape: LockShape;

  constructor(db: Database<typeof schema>, settings: ThrottleSettings) {
    this.settings = settings;
    this.store = new LoginThrottleRepository(db);
    this.shape = { windowMs: WINDOW_MS, baseLockMs: settings.lockSeconds * 1000, maxLockMs: MAX_LOCK_MS };
  }

  private refuse(lockedUntil: Date): never {
    const seconds = Math.max(1, Math.ceil((lockedUntil.getTime() - Date.now()) / 1000));
    throw new RateLimitedError(`Too many failed attempts; try again in ${seconds} s`, seconds);
  }

  /** Counts an attempt, locking the key at `threshold` (see LoginThrottleRepository.hit). */
  private hit(key: string, threshold: number, gate: boolean) {
    return this.store.hit(key, threshold, gate, this.shape);
  }

  /** Counts a gated attempt; refuses it when the key is locked. */
  private async admit(key: string, threshold: number): Promise<void> {
    if (await this.hit(key, threshold, true)) return;
    const lockedUntil = (await this.store.states([key])).get(key)?.lockedUntil;
    this.refuse(lockedUntil ?? new Date(Date.now() + this.settings.lockSeconds * 1000));
  }

  /**
   * Before a sign-in's password is checked: refuses a locked-out source, then counts the attempt
   * against this account from this source.
   */
  async beforeSignIn(email: string, source: string): Promise<void> {
    const k = keys(email, source);
    const now = new Date();
    const states = await this.store.states([k.source, k.pair, k.account, k.known]);
    const lockOf = (key: string) => {
      const until = states.get(key)?.lockedUntil;
      return until && until > now ? until : null;
    };
    const knownGood = !!lockOf(k.known);
    // An address locked for failing on many accounts stays open to the accounts that signed in from it
    // before: one guesser behind an office's shared address must not lock out everyone who works there.
    const sourceLock = (knownGood ? null : lockOf(k.source)) ?? lockOf(k.pair);
    if (sourceLock) this.refuse(sourceLock);
    const accountLock = lockOf(k.account);
    const failedHere = (states.get(k.pair)?.failures ?? 0) > 0;
    if (accountLock && failedHere && !knownGood) this.refuse(accountLock);
    if (email) await this.admit(k.pair, this.settings.maxFailures);
  }

  async signInFailed(email: string, source: string): Promise<void> {
    const k = keys(email, source);
    await this.hit(k.source, this.settings.maxFailures * SOURCE_FACTOR, false);
    if (email) await this.hit(k.account, this.settings.maxFailures * ACCOUNT_FACTOR, false);
  }

  /** The user is in: this source's failures on the account are forgiven and it becomes known good. */
  async signInSucceeded(email: string, source: string): Promise<void> {
    const k = keys(email, source);
    await this.store.remove(k.pair);
    await this.store.mark(k.known, new Date(Date.now() + KNOWN_SOURCE_MS));
  }

  /** Before `changePassword` checks the current password: a stolen access token gets few guesses. */
  async beforePasswordCheck(userId: string): Promise<void> {
    const key = `password:${userId}`;
    await this.admit(key, this.settings.maxFailures);
  }

  async passwordCheckSucceeded(userId: string): Promise<void> {
    await this.store.remove(`password:${userId}`);
  }

  /**
   * Clears every sign-in lock and count of an account (not its known-good sources) and, given an
   * address, that address's lock on every account (as Express reports IPv4 on a dual-stack socket too).
   */
  async unlock(email: string, address?: string): Promise<boolean> {
    const account = await this.store.removeWithPrefix(`account:${email}`, `pair:${email}|`);
    if (address === undefined) return account;
    const source = await this.store.removeKeys([`address:${address}`, `address:::ffff:${address}`]);
    return account || source;
  }

  /** Forgets counts whose window ended and locks and known-good marks that ran out. */
  purgeExpired(limit: number): Promise<number> {
    return this.store.purgeExpired(this.shape.windowMs, limit);
  }
}
