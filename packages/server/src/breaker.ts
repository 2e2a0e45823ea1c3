/** closed: calls go through; open: they fail at once; half-open: one probe call may try again. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Time for a breaker: the real one by default, a hand-moved one in tests. */
export interface BreakerClock {
  now(): number;
  /** Calls `run` once after `ms`; returns how to cancel that. */
  after(ms: number, run: () => void): () => void;
}

export const systemClock: BreakerClock = {
  now: () => Date.now(),
  after(ms, run) {
    const timer = setTimeout(run, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export interface BreakerOptions {
  /** It may open once its window holds at least this many finished calls... */
  minCalls: number;
  /** ...of which more than this percentage failed (0: any failure opens it). */
  failurePercent: number;
  /** The rolling window calls are counted in, in ten steps; it starts empty whenever the breaker closes. */
  windowMs: number;
  /** How long it stays open; then it is half-open, and one probe call decides: closed again, or open again. */
  openMs: number;
  /** Whether an error counts against what is called; one that does not counts as a success. Default: every error. */
  isFailure?: (error: unknown) => boolean;
  /** Each change of state, for a metric or a log line. */
  onStateChange?: (state: BreakerState) => void;
  clock?: BreakerClock;
}

/** What `run` throws, without calling, while the breaker is open (or half-open with its probe under way). */
export class BreakerOpenError extends Error {
  readonly code = 'EOPENBREAKER';
  constructor() {
    super('Breaker is open');
  }
}

export interface Breaker {
  readonly state: BreakerState;
  /** Calls `call` and counts how it went, or throws BreakerOpenError at once while the breaker is open. */
  run<T>(call: () => Promise<T>): Promise<T>;
  /** Opens it now, or again (the open time starts over): for a failure seen outside `run`. */
  trip(): void;
}

const STEPS = 10;

/**
 * A circuit breaker: while what it guards keeps failing, callers get BreakerOpenError at once instead
 * of waiting on it, and after `openMs` a single probe call finds out whether it is back.
 */
export function createBreaker(options: BreakerOptions): Breaker {
  const clock = options.clock ?? systemClock;
  const isFailure = options.isFailure ?? (() => true);
  const stepMs = options.windowMs / STEPS;
  let state: BreakerState = 'closed';
  let openUntil = 0;
  let cancelTimer = () => {};
  /** The call under way in half-open state, whose outcome decides; null when none is. */
  let probe: object | null = null;
  let steps: { step: number; calls: number; failures: number }[] = [];

  const enter = (next: BreakerState) => {
    if (state === next) return;
    state = next;
    options.onStateChange?.(next);
  };

  const open = () => {
    cancelTimer();
    probe = null;
    openUntil = clock.now() + options.openMs;
    cancelTimer = clock.after(options.openMs, halfOpen);
    enter('open');
  };

  function halfOpen() {
    if (state !== 'open') return;
    cancelTimer();
    enter('half-open');
  }

  const close = () => {
    cancelTimer();
    probe = null;
    steps = [];
    enter('closed');
  };

  /** Counts a call that finished while closed; opens the breaker when the window says so. */
  const count = (failed: boolean) => {
    const step = Math.floor(clock.now() / stepMs);
    steps = steps.filter((s) => s.step > step - STEPS);
    let current = steps.at(-1);
    if (current?.step !== step) steps.push((current = { step, calls: 0, failures: 0 }));
    current.calls++;
    if (failed) current.failures++;
    if (!failed) return;
    const calls = steps.reduce((n, s) => n + s.calls, 0);
    const failures = steps.reduce((n, s) => n + s.failures, 0);
    if (calls >= options.minCalls && (failures / calls) * 100 > options.failurePercent) open();
  };

  const settle = (token: object | null, failed: boolean) => {
    if (token) {
      // Only the probe decides, and only while it is still the probe (a trip meanwhile reopened the breaker).
      if (token !== probe) return;
      if (failed) open();
      else close();
    } else if (state === 'closed') count(failed);
  };

  return {
    get state() {
      if (state === 'open' && clock.now() >= openUntil) halfOpen();
      return state;
    },
    async run<T>(call: () => Promise<T>): Promise<T> {
      if (state === 'open' && clock.now() >= openUntil) halfOpen();
      if (state === 'open' || (state === 'half-open' && probe)) throw new BreakerOpenError();
      const token = state === 'half-open' ? (probe = {}) : null;
      try {
        const result = await call();
        settle(token, false);
        return result;
      } catch (error) {
        settle(token, isFailure(error));
        throw error;
      }
    },
    trip: open,
  };
}
