// loopingCall (lib/hog/looping-call.ts): schedules on the monotonic clock.
import { afterEach, describe, expect, it } from 'vitest';
import { getHub, loopingCall, sleep } from '../../lib';
import type { Green } from '../../lib';
import { run } from '../helpers/green';

afterEach(() => getHub().onWarning(null));

function* work(ms: number): Green<void> {
  yield* sleep(ms);
}

describe('loopingCall', () => {
  it('fixed-rate starts runs on start0 + k × interval; fixed-delay waits interval after each run', async () => {
    const starts: Record<string, number[]> = { 'fixed-rate': [], 'fixed-delay': [] };
    await run(function* () {
      for (const policy of ['fixed-rate', 'fixed-delay'] as const) {
        const lc = loopingCall(function* () {
          starts[policy].push(performance.now());
          yield* work(30);
          if (starts[policy].length === 8) lc.stop();
        }, { intervalMs: 50, policy });
        yield* lc.wait();
      }
    });
    const gaps = (xs: number[]) => xs.slice(1).map((x, i) => x - xs[i]);
    const rate = starts['fixed-rate'];
    // Never early against the fixed schedule.
    rate.forEach((t, k) => expect(t - rate[0]).toBeGreaterThanOrEqual(k * 50 - 0.5));
    // fixed-delay: each gap is at least the run (30) plus the interval (50).
    for (const g of gaps(starts['fixed-delay'])) expect(g).toBeGreaterThanOrEqual(80 - 0.5);
    // fixed-rate keeps to the schedule: its runs take 7 intervals, not 7 × (run + interval).
    const rateSpan = rate[7] - rate[0];
    const delaySpan = starts['fixed-delay'][7] - starts['fixed-delay'][0];
    expect(rateSpan).toBeLessThan(delaySpan);
  });

  it('reports each overrun with how late, through onWarning', async () => {
    const warnings: string[] = [];
    getHub().onWarning((m) => warnings.push(m));
    const stats = await run(function* () {
      let n = 0;
      const lc = loopingCall(function* () {
        yield* work(80);
        if (++n === 3) lc.stop();
      }, { intervalMs: 50, name: 'slow_task' });
      yield* lc.wait();
      return lc.stats;
    });
    expect(stats.runs).toBe(3);
    expect(stats.overruns).toBe(2); // the third run stopped the loop before its check
    expect(warnings).toHaveLength(2);
    for (const w of warnings) expect(w).toMatch(/looping call "slow_task": run outlasted interval by \d+(\.\d)? ms/);
  });

  it('stop() during the wait ends the loop at once', async () => {
    const r = await run(function* () {
      let runs = 0;
      const lc = loopingCall(() => {
        runs++;
      }, { intervalMs: 60_000, initialDelayMs: 60_000 });
      yield* sleep(1);
      lc.stop();
      const doneAtOnce = lc.done;
      yield* lc.wait();
      return { runs, doneAtOnce, timers: getHub().stats().timers };
    });
    expect(r).toEqual({ runs: 0, doneAtOnce: true, timers: 0 });
  });

  it('stop() before the first run ends it at once; wait() returns', async () => {
    const r = await run(function* () {
      let runs = 0;
      const lc = loopingCall(() => {
        runs++;
      }, { intervalMs: 10, initialDelayMs: 60_000 });
      lc.stop(); // its greenthread has not even started
      yield* lc.wait();
      return { runs, done: lc.done, timers: getHub().stats().timers };
    });
    expect(r).toEqual({ runs: 0, done: true, timers: 0 });
  });

  it('ends with fn\'s error, thrown from wait(); rejects bad options', async () => {
    const msg = await run(function* (): Green<string> {
      const lc = loopingCall(() => {
        throw new Error('broken task');
      }, { intervalMs: 10 });
      try {
        yield* lc.wait();
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(msg).toBe('broken task');
    expect(() => loopingCall(() => {}, { intervalMs: -1 })).toThrow(RangeError);
    expect(() => loopingCall(() => {}, { intervalMs: 10, policy: 'sometimes' as never })).toThrow(TypeError);
    expect(() => loopingCall(5 as never, { intervalMs: 10 })).toThrow(TypeError);
  });
});
