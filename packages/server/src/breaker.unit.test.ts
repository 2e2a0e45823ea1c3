import { describe, expect, it } from 'vitest';
import {
  BreakerOpenError,
  createBreaker,
  type BreakerClock,
  type BreakerOptions,
  type BreakerState,
} from './breaker.js';

/** A clock moved by hand: `advance` runs the timers that fall due, in order. */
function manualClock() {
  let now = 1_000_000;
  let timers: { at: number; run: () => void }[] = [];
  const clock: BreakerClock = {
    now: () => now,
    after(ms, run) {
      const timer = { at: now + ms, run };
      timers.push(timer);
      return () => (timers = timers.filter((t) => t !== timer));
    },
  };
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      timers = timers.filter((t) => t !== due);
      now = due.at;
      due.run();
    }
    now = until;
  };
  return { clock, advance, pending: () => timers.length };
}

function setup(overrides: Partial<BreakerOptions> = {}) {
  const time = manualClock();
  const changes: BreakerState[] = [];
  const breaker = createBreaker({
    minCalls: 4,
    failurePercent: 50,
    windowMs: 10_000,
    openMs: 5_000,
    clock: time.clock,
    onStateChange: (state) => changes.push(state),
    ...overrides,
  });
  const ok = () => breaker.run(async () => 'ok');
  const fail = (error: unknown = new Error('down')) =>
    breaker
      .run(async () => {
        throw error;
      })
      .catch((e: unknown) => e);
  return { ...time, breaker, changes, ok, fail };
}

/** A call that stays under way until `finish` or `crash`. */
function pendingCall() {
  let finish!: (value: string) => void;
  let crash!: (error: unknown) => void;
  const promise = new Promise<string>((resolve, reject) => ((finish = resolve), (crash = reject)));
  return { call: () => promise, finish, crash };
}

describe('circuit breaker', () => {
  it('stays closed until the window holds minCalls calls and more than failurePercent of them failed', async () => {
    const { breaker, ok, fail, changes } = setup();
    await fail();
    await fail();
    await ok();
    expect(breaker.state).toBe('closed'); // 3 calls: fewer than minCalls
    await ok();
    expect(breaker.state).toBe('closed'); // 2 of 4 failed: 50 %, not more
    await fail();
    expect(breaker.state).toBe('open'); // 3 of 5
    expect(changes).toEqual(['open']);
  });

  it('fails at once while open, without calling', async () => {
    const { breaker, fail } = setup({ minCalls: 1, failurePercent: 0 });
    await fail();
    let called = false;
    const refused = await breaker
      .run(async () => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(refused).toBeInstanceOf(BreakerOpenError);
    expect((refused as BreakerOpenError).code).toBe('EOPENBREAKER');
    expect((refused as Error).message).toBe('Breaker is open');
  });

  it('counts only the calls inside its rolling window', async () => {
    const { breaker, fail, ok, advance } = setup();
    await fail();
    await fail();
    await fail();
    advance(11_000); // those three have left the window
    await ok();
    await ok();
    await ok();
    await fail();
    expect(breaker.state).toBe('closed'); // 1 of 4
  });

  it('turns half-open after openMs by itself (a timer), for the metric', async () => {
    const { breaker, fail, advance, changes } = setup({ minCalls: 1, failurePercent: 0 });
    await fail();
    advance(4_999);
    expect(changes).toEqual(['open']);
    advance(1);
    expect(changes).toEqual(['open', 'half-open']);
    expect(breaker.state).toBe('half-open');
  });

  it('lets one probe through when half-open; its success closes the breaker', async () => {
    const { breaker, fail, ok, advance, changes } = setup({ minCalls: 1, failurePercent: 0 });
    await fail();
    advance(5_000);
    const probe = pendingCall();
    const probing = breaker.run(probe.call);
    expect(await fail()).toBeInstanceOf(BreakerOpenError); // a second caller while the probe is out
    probe.finish('back');
    expect(await probing).toBe('back');
    expect(breaker.state).toBe('closed');
    expect(await ok()).toBe('ok');
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  it('opens again for another openMs when the probe fails', async () => {
    const { breaker, fail, advance, changes, pending } = setup({ minCalls: 1, failurePercent: 0 });
    await fail();
    advance(5_000);
    expect((await fail()) as Error).toHaveProperty('message', 'down');
    expect(breaker.state).toBe('open');
    expect(pending()).toBe(1);
    advance(4_999);
    expect(breaker.state).toBe('open');
    advance(1);
    expect(changes).toEqual(['open', 'half-open', 'open', 'half-open']);
  });

  it('starts with an empty window once closed again', async () => {
    const { breaker, fail, ok, advance } = setup();
    for (let i = 0; i < 4; i++) await fail();
    expect(breaker.state).toBe('open');
    advance(5_000);
    await ok();
    expect(breaker.state).toBe('closed');
    await fail();
    expect(breaker.state).toBe('closed'); // the failures before it opened no longer count
  });

  it('counts an error isFailure refuses as a success: it closes a half-open breaker and opens nothing', async () => {
    const answered = new Error('answered with errors');
    const { breaker, fail, advance } = setup({
      minCalls: 1,
      failurePercent: 0,
      isFailure: (error) => error !== answered,
    });
    expect(await fail(answered)).toBe(answered);
    expect(breaker.state).toBe('closed');
    await fail();
    advance(5_000);
    expect(await fail(answered)).toBe(answered);
    expect(breaker.state).toBe('closed');
  });

  it('trip opens it from outside, and again restarts the open time', async () => {
    const { breaker, advance, changes } = setup();
    breaker.trip();
    expect(breaker.state).toBe('open');
    advance(4_000);
    breaker.trip();
    advance(4_000);
    expect(breaker.state).toBe('open'); // 8 s after the first trip, 4 s after the second
    advance(1_000);
    expect(breaker.state).toBe('half-open');
    expect(changes).toEqual(['open', 'half-open']);
  });

  it('ignores a probe a trip has overtaken, and calls that finish after it opened', async () => {
    const { breaker, fail, advance, changes } = setup({ minCalls: 1, failurePercent: 0 });
    const slow = pendingCall();
    const slowRun = breaker.run(slow.call);
    await fail();
    slow.finish('late'); // began while closed, ends while open: changes nothing
    await slowRun;
    expect(breaker.state).toBe('open');
    advance(5_000);
    const probe = pendingCall();
    const probing = breaker.run(probe.call);
    breaker.trip();
    probe.finish('ok');
    await probing;
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['open', 'half-open', 'open']);
  });

  it('turns half-open on the next call when the timer is late', async () => {
    const time = manualClock();
    const late: BreakerClock = { now: time.clock.now, after: () => () => {} }; // a timer that never fires
    const breaker = createBreaker({ minCalls: 1, failurePercent: 0, windowMs: 1000, openMs: 1000, clock: late });
    breaker.trip();
    time.advance(1000);
    expect(await breaker.run(async () => 'probe')).toBe('probe');
    expect(breaker.state).toBe('closed');
  });
});
