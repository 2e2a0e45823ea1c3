import { describe, expect, it } from 'vitest';
import { follow, type FollowOptions } from './follow.js';

/** A promise settled by hand. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => ((resolve = yes), (reject = no)));
  return { promise, resolve, reject };
}

/**
 * A follower over scripted reads: each read takes the next step (a batch, or an Error to throw); once
 * the script is done a read waits until the test ends it. Waits are recorded and end at once.
 */
function scripted(steps: (number[] | Error)[], overrides: Partial<FollowOptions<number[]>> = {}) {
  const handled: number[][] = [];
  const errors: [string, number][] = [];
  const recovered: number[] = [];
  const waits: number[] = [];
  const idle = deferred<number[]>();
  const drained = deferred();
  let reads = 0;
  const loop = follow<number[]>({
    next: async () => {
      reads++;
      const step = steps.shift();
      if (step === undefined) {
        drained.resolve();
        return idle.promise;
      }
      if (step instanceof Error) throw step;
      return step;
    },
    handle: (batch) => void handled.push(batch),
    retry: { firstMs: 100, maxMs: 1000 },
    onError: (error, failures) => errors.push([(error as Error).message, failures]),
    onRecovered: (failures) => recovered.push(failures),
    sleep: async (ms) => void waits.push(ms),
    ...overrides,
  });
  return { loop, handled, errors, recovered, waits, idle, drained, reads: () => reads };
}

describe('follow', () => {
  it('hands every batch over in order, one at a time', async () => {
    const steps = [[1], [2, 3], [4]];
    let busy = false;
    const order: string[] = [];
    const run = scripted(steps, {
      handle: async (batch) => {
        expect(busy).toBe(false);
        busy = true;
        order.push(batch.join());
        await Promise.resolve();
        busy = false;
      },
    });
    await run.drained.promise;
    expect(order).toEqual(['1', '2,3', '4']);
    run.idle.resolve([]);
    await run.loop.stop();
  });

  it('waits firstMs after a failure, doubling to at most maxMs, and reports each failure with its count', async () => {
    const down = (n: number) => new Error(`down ${n}`);
    const run = scripted([down(1), down(2), down(3), down(4), down(5), down(6), [7]]);
    await run.drained.promise;
    expect(run.waits).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(run.errors.map(([, failures]) => failures)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(run.errors[0]![0]).toBe('down 1');
    expect(run.recovered).toEqual([6]);
    expect(run.handled).toEqual([[7]]);
    run.idle.resolve([]);
    await run.loop.stop();
  });

  it('starts counting again after a batch went through', async () => {
    const run = scripted([new Error('a'), new Error('b'), [1], new Error('c'), [2]]);
    await run.drained.promise;
    expect(run.waits).toEqual([100, 200, 100]);
    expect(run.errors).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 1],
    ]);
    expect(run.recovered).toEqual([2, 1]);
    run.idle.resolve([]);
    await run.loop.stop();
  });

  it('counts a handler that throws like a failed read, and goes on with the next read', async () => {
    let calls = 0;
    const run = scripted([[1], [2]], {
      handle: () => {
        if (++calls === 1) throw new Error('handler');
      },
    });
    await run.drained.promise;
    expect(run.errors).toEqual([['handler', 1]]);
    expect(run.waits).toEqual([100]);
    expect(run.recovered).toEqual([1]);
    run.idle.resolve([]);
    await run.loop.stop();
  });

  it('on stop, waits for the read under way and does not hand its batch over', async () => {
    const run = scripted([[1]]);
    await run.drained.promise;
    const stopping = run.loop.stop();
    run.idle.resolve([2]);
    await stopping;
    expect(run.handled).toEqual([[1]]);
    expect(run.reads()).toBe(2);
  });

  it('on stop, reports no error from the read under way', async () => {
    const run = scripted([]);
    await run.drained.promise;
    const stopping = run.loop.stop();
    run.idle.reject(new Error('connection closed'));
    await stopping;
    expect(run.errors).toEqual([]);
  });

  it('on stop, cuts the wait between failures short', async () => {
    const asleep = deferred();
    const sleeping = deferred();
    let aborted = false;
    const run = scripted([new Error('down')], {
      sleep: (_ms, signal) => {
        signal.addEventListener('abort', () => {
          aborted = true;
          sleeping.resolve();
        });
        asleep.resolve();
        return sleeping.promise;
      },
    });
    await asleep.promise;
    await run.loop.stop();
    expect(aborted).toBe(true);
    expect(run.reads()).toBe(1);
  });
});
