// timeout(): eventlet's Timeout object, and withTimeout's { default } (lib/sync/timeout.ts)
import { afterEach, describe, expect, it } from 'vitest';
import { Event, GreenletExit, Queue, TimeoutError, getHub, sleep, spawn } from '../lib';
import type { Green, Operation } from '../lib';
import { Timeout, timeout, withTimeout } from '../lib/sync/timeout';
import { burn, run, thrown } from './helpers/green';

afterEach(() => {
  expect(getHub().stats().timers, 'timers left behind').toBe(0);
});

/** What op throws, or 'no error' with its value. */
function* outcome<T>(op: () => Operation<T>): Green<{ err?: unknown; value?: T }> {
  try {
    return { value: yield* op() };
  } catch (err) {
    return { err };
  }
}

describe('timeout(): run(op)', () => {
  it('returns op result in time: pending until then, no timer after', async () => {
    const r = await run(function* () {
      const t = timeout(1000);
      const before = [t.pending, getHub().stats().timers];
      const v = yield* t.run((function* () {
        yield* sleep(1);
        return 'in time';
      })());
      return { before, v, after: t.pending };
    });
    expect(r).toEqual({ before: [true, 1], v: 'in time', after: false });
  });

  it('its deadline throws a TimeoutError into op, naming it: err.timeout === t, isMine, finally ran', async () => {
    let cleaned = false;
    const r = await run(function* () {
      const t = timeout(5);
      const { err } = yield* outcome(() => t.run((function* () {
        try {
          yield* sleep(10_000);
        } finally {
          cleaned = true;
        }
      })()));
      const e = err as TimeoutError;
      return { isTimeout: e instanceof TimeoutError, code: e.code, message: e.message, own: e.timeout === t, mine: t.isMine(e), pending: t.pending };
    });
    expect(r).toEqual({ isTimeout: true, code: 'ETIMEDOUT', message: 'timed out after 5 ms', own: true, mine: true, pending: false });
    expect(cleaned).toBe(true);
  });

  it('fires no earlier than ms after it started', async () => {
    const r = await run(function* () {
      const t0 = performance.now();
      const t = timeout(30);
      yield* outcome(() => t.run(sleep(10_000)));
      return performance.now() - t0;
    });
    expect(r).toBeGreaterThanOrEqual(29);
  });

  it('interrupts a loop that only yields with sleep(0); timeout(0) fires at the next turn', async () => {
    const r = await run(function* () {
      let spins = 0;
      const t = timeout(0);
      const { err } = yield* outcome(() => t.run((function* () {
        for (;;) {
          spins++;
          yield* sleep(0);
        }
      })()));
      return { mine: t.isMine(err), spins };
    });
    expect(r).toEqual({ mine: true, spins: 1 });
  });

  it('an error from op goes through unchanged and cancels the deadline', async () => {
    const boom = new Error('boom');
    const r = await run(function* () {
      const t = timeout(1000, { silent: true });
      const { err } = yield* outcome(() => t.run((function* () {
        yield* sleep(0);
        throw boom;
      })()));
      return { same: err === boom, pending: t.pending };
    });
    expect(r).toEqual({ same: true, pending: false });
  });
});

describe('timeout(): identity and nesting', () => {
  it('two deadlines due in one turn while their greenthread is woken: the inner one is withdrawn with its block, the outer one still fires', async () => {
    const r = await run(function* () {
      const ev = new Event<number>();
      spawn(function* () {
        burn(40); // both deadlines pass while the waiter is woken but not yet resumed
        ev.send(1);
      });
      const t = timeout(15);
      try {
        const v = yield* withTimeout(10, ev.wait());
        yield* sleep(5000);
        return { v, outcome: 'the outer deadline lapsed' };
      } catch (e) {
        return { outcome: t.isMine(e) ? 'outer fired' : `other: ${String(e)}` };
      }
    });
    expect(r).toEqual({ outcome: 'outer fired' });
  });

  it("withTimeout's default never swallows an outer deadline", async () => {
    const r = await run(function* () {
      const outer = timeout(10);
      let innerReturned = false;
      const { err } = yield* outcome(() => outer.run((function* () {
        yield* withTimeout(10_000, sleep(10_000), { default: 'inner default' });
        innerReturned = true;
      })()));
      return { mine: outer.isMine(err), innerReturned };
    });
    expect(r).toEqual({ mine: true, innerReturned: false });
  });

  it("a silent inner timeout never swallows an outer deadline either; the outer's error is not the inner's", async () => {
    const r = await run(function* () {
      const outer = timeout(10);
      const inner = timeout(10_000, { silent: true });
      const { err } = yield* outcome(() => outer.run(inner.run(sleep(10_000))));
      return { outer: outer.isMine(err), inner: inner.isMine(err), innerPending: inner.pending };
    });
    expect(r).toEqual({ outer: true, inner: false, innerPending: false });
  });

  it('the inner deadline first: its default is returned and the outer one stays armed', async () => {
    const r = await run(function* () {
      const outer = timeout(10_000);
      const v = yield* outer.run((function* () {
        const got = yield* withTimeout(5, sleep(10_000), { default: 'late' });
        return { got, outerPending: outer.pending };
      })());
      return v;
    });
    expect(r).toEqual({ got: 'late', outerPending: true });
  });

  it('isMine is false for another TimeoutError, a non-error and anything thrown before it fired', async () => {
    const r = await run(function* () {
      const a = timeout(5);
      const b = timeout(10_000);
      const { err } = yield* outcome(() => a.run(sleep(10_000)));
      const res = [a.isMine(err), b.isMine(err), a.isMine(new TimeoutError()), a.isMine(undefined), a.isMine('x'), (err as TimeoutError).timeout === b];
      b.cancel();
      return res;
    });
    expect(r).toEqual([true, false, false, false, false, false]);
  });

  it("a withTimeout's own TimeoutError carries no timeout object", async () => {
    const r = await run(function* () {
      const { err } = yield* outcome(() => withTimeout(1, sleep(10_000)));
      return (err as TimeoutError).timeout;
    });
    expect(r).toBeUndefined();
  });
});

describe('timeout(): error and silent options', () => {
  class SlowBackend extends Error {
    override name = 'SlowBackend';
  }

  it('an Error class is made at the deadline with the message; isMine knows it', async () => {
    const r = await run(function* () {
      const t = timeout(2, { error: SlowBackend });
      const { err } = yield* outcome(() => t.run(sleep(10_000)));
      return { cls: err instanceof SlowBackend, notTimeout: !(err instanceof TimeoutError), message: (err as Error).message, mine: t.isMine(err) };
    });
    expect(r).toEqual({ cls: true, notTimeout: true, message: 'timed out after 2 ms', mine: true });
  });

  it('an instance is thrown as is', async () => {
    const mine = new SlowBackend('backend too slow');
    const r = await run(function* () {
      const t = timeout(2, { error: mine });
      const { err } = yield* outcome(() => t.run(sleep(10_000)));
      return { same: err === mine, mine: t.isMine(err), untouched: Object.keys(mine).length };
    });
    expect(r).toEqual({ same: true, mine: true, untouched: 1 }); // only its own `name` field
  });

  it('a class whose constructor throws: that error reaches the greenthread, the hub keeps running', async () => {
    class Broken extends Error {
      constructor() {
        super('x');
        throw new RangeError('broken constructor');
      }
    }
    const r = await run(function* () {
      const t = timeout(2, { error: Broken });
      const { err } = yield* outcome(() => t.run(sleep(10_000)));
      return { msg: (err as Error).message, mine: t.isMine(err) };
    });
    expect(r).toEqual({ msg: 'broken constructor', mine: true });
  });

  it('silent: run returns undefined when its own deadline fires', async () => {
    const r = await run(function* () {
      const t = timeout(2, { silent: true });
      const q = new Queue<number>();
      const v = yield* t.run(q.get());
      return { v, silent: t.silent };
    });
    expect(r).toEqual({ v: undefined, silent: true });
  });

  it('silent does not apply outside run: fired at a suspension outside it, the error is thrown', async () => {
    const r = await run(function* () {
      const t = timeout(2, { silent: true });
      const { err } = yield* outcome(() => sleep(10_000));
      return t.isMine(err);
    });
    expect(r).toBe(true);
  });
});

describe('timeout(): outside run, cancel, reset, no deadline', () => {
  it('fired while its greenthread waits outside run: thrown at that suspension point', async () => {
    const r = await run(function* () {
      const t = timeout(5);
      const t0 = performance.now();
      const { err } = yield* outcome(() => sleep(10_000));
      return { mine: t.isMine(err), quick: performance.now() - t0 < 5000, pending: t.pending };
    });
    expect(r).toEqual({ mine: true, quick: true, pending: false });
  });

  it('fired while its greenthread was woken but not yet resumed: it keeps its value, the error comes at its next suspension', async () => {
    const r = await run(function* () {
      const ev = new Event<string>();
      spawn(function* () {
        yield* sleep(5);
        ev.send('value');
        burn(40); // the deadline passes before the waiter resumes
      });
      const t = timeout(20);
      const got = yield* ev.wait();
      const t0 = performance.now();
      const { err } = yield* outcome(() => sleep(10_000));
      return { got, mine: t.isMine(err), quick: performance.now() - t0 < 5000 };
    });
    expect(r).toEqual({ got: 'value', mine: true, quick: true });
  });

  it('such a deferred error is withdrawn when run ends first: never thrown after the block', async () => {
    const r = await run(function* () {
      const ev = new Event<string>();
      spawn(function* () {
        yield* sleep(5);
        ev.send('value');
        burn(40);
      });
      const t = timeout(20);
      const got = yield* t.run(ev.wait());
      yield* sleep(5); // the next suspension: nothing is thrown here
      return { got, pending: t.pending };
    });
    expect(r).toEqual({ got: 'value', pending: false });
  });

  it('withTimeout: a deadline that passes while op was just woken does not lapse', async () => {
    const r = await run(function* () {
      const ev = new Event<number>();
      spawn(function* () {
        yield* sleep(5);
        ev.send(1);
        burn(40);
      });
      const t0 = performance.now();
      const { err } = yield* outcome(() => withTimeout(20, (function* () {
        yield* ev.wait();
        yield* sleep(10_000);
      })()));
      return { timeout: err instanceof TimeoutError, quick: performance.now() - t0 < 5000 };
    });
    expect(r).toEqual({ timeout: true, quick: true });
  });

  it('withTimeout: a woken op keeps its value, and its deferred deadline is withdrawn', async () => {
    const r = await run(function* () {
      const q = new Queue<number>();
      spawn(function* () {
        yield* sleep(5);
        q.tryPut(7);
        burn(40);
      });
      const v = yield* withTimeout(20, q.get(), { default: -1 });
      yield* sleep(5);
      return { v, left: q.size };
    });
    expect(r).toEqual({ v: 7, left: 0 });
  });

  it('cancel: no timer, nothing thrown later; idempotent; after firing it does nothing', async () => {
    const r = await run(function* () {
      const t = timeout(5);
      t.cancel();
      t.cancel();
      const timers = getHub().stats().timers;
      yield* sleep(20); // past the deadline: nothing thrown
      const u = timeout(2);
      const { err } = yield* outcome(() => sleep(10_000));
      u.cancel();
      return { timers, pending: t.pending, fired: u.isMine(err) };
    });
    expect(r).toEqual({ timers: 0, pending: false, fired: true });
  });

  it('run after cancel, or after its error was thrown, is an Error that says reset(ms)', async () => {
    const r = await run(function* () {
      const t = timeout(1000);
      t.cancel();
      const afterCancel = thrown(() => t.run(sleep(0)));
      const u = timeout(2);
      yield* outcome(() => sleep(10_000));
      const afterFire = thrown(() => u.run(sleep(0)));
      const v = timeout(1000);
      yield* v.run(sleep(0));
      const secondRun = thrown(() => v.run(sleep(0)));
      return { afterCancel, afterFire, secondRun };
    });
    expect(r.afterCancel).toMatch(/^Error: this timeout was cancelled.*reset\(ms\)/);
    expect(r.afterFire).toMatch(/^Error: this timeout already fired \(after 2 ms\).*reset\(ms\)/);
    expect(r.secondRun).toMatch(/^Error: this timeout was cancelled \(run\(\) cancels it when it ends\)/);
  });

  it('reset re-arms from now: the old deadline never fires, the new one no earlier than ms after the reset', async () => {
    const r = await run(function* () {
      const t = timeout(15);
      yield* sleep(5);
      const t0 = performance.now();
      t.reset(60);
      const { err } = yield* outcome(() => t.run(sleep(10_000)));
      return { mine: t.isMine(err), elapsed: performance.now() - t0, ms: t.ms };
    });
    expect(r.mine).toBe(true);
    expect(r.elapsed).toBeGreaterThanOrEqual(59);
    expect(r.ms).toBe(60);
  });

  it('reset after firing or cancel re-arms; reset() keeps the length; reset(null) disarms', async () => {
    const r = await run(function* () {
      const t = timeout(2);
      yield* outcome(() => sleep(10_000));
      t.reset();
      const rearmed = [t.pending, t.ms];
      const { err } = yield* outcome(() => t.run(sleep(10_000)));
      t.reset(null);
      const none = [t.pending, t.ms, getHub().stats().timers];
      yield* t.run(sleep(5));
      return { rearmed, again: t.isMine(err), none };
    });
    expect(r).toEqual({ rearmed: [true, 2], again: true, none: [false, null, 0] });
  });

  it('Infinity or null: no timer at all, run just runs op', async () => {
    const r = await run(function* () {
      const a = timeout(Infinity);
      const b = timeout(null);
      const timers = getHub().stats().timers;
      const v = yield* a.run(b.run((function* () {
        yield* sleep(5);
        return 'done';
      })()));
      return { timers, v, pending: [a.pending, b.pending], ms: [a.ms, b.ms] };
    });
    expect(r).toEqual({ timers: 0, v: 'done', pending: [false, false], ms: [null, null] });
  });

  it('a greenthread that ends without cancelling takes its deadline with it', async () => {
    let t: Timeout | undefined;
    await run(function* () {
      t = timeout(60_000);
      yield* sleep(0);
    });
    expect(t!.pending).toBe(false);
    expect(getHub().stats().timers).toBe(0);
  });
});

describe('timeout(): kills and greenthreads', () => {
  it('killed inside run: the kill goes through, the deadline goes, nothing is thrown later', async () => {
    let t: Timeout | undefined;
    let cleaned = false;
    const victim = spawn(function* () {
      t = timeout(20);
      try {
        yield* t.run(sleep(10_000));
      } finally {
        cleaned = true;
      }
    });
    await run(function* () {
      yield* sleep(1);
    });
    victim.kill();
    expect(cleaned).toBe(true);
    expect(t!.pending).toBe(false);
    await expect(Promise.resolve(victim)).rejects.toBeInstanceOf(GreenletExit);
  });

  it('a kill supersedes a deferred deadline: waiters get GreenletExit, not the timeout', async () => {
    const r = await run(function* () {
      const ev = new Event<number>();
      const go = new Event();
      const victim = spawn(function* () {
        const t = timeout(20);
        try {
          yield* ev.wait();
          yield* sleep(10_000);
        } finally {
          yield* sleep(1); // a finally that suspends: still the kill, not the deadline
          t.cancel();
        }
      });
      spawn({ priority: 'high' }, function* () {
        yield* go.wait();
        victim.kill(); // runs first in the turn whose timers found the victim woken, not resumed
      });
      yield* sleep(1);
      ev.send(1);
      go.send(undefined);
      burn(40); // the victim's deadline passes before that turn
      const { err } = yield* outcome(() => victim.wait());
      return err instanceof GreenletExit;
    });
    expect(r).toBe(true);
  });

  it('another greenthread cannot run it (clear Error), but may cancel it', async () => {
    const r = await run(function* () {
      const t = timeout(10_000);
      const other = spawn(function* () {
        const msg = thrown(() => t.run(sleep(0)));
        t.cancel();
        return msg;
      });
      const msg = yield* other.wait();
      return { msg, pending: t.pending };
    });
    expect(r.msg).toMatch(/^Error: a timeout belongs to the greenthread that started it, \d+ .*cannot run it/);
    expect(r.pending).toBe(false);
  });

  it('reset after its greenthread ended is a clear Error', async () => {
    let t: Timeout | undefined;
    await run(function* () {
      t = timeout(1000);
      t.cancel();
    });
    expect(thrown(() => t!.reset(5))).toMatch(/^Error: cannot reset a timeout whose greenthread \d+ .* has ended/);
  });

  it('outside a greenthread: timeout() and run() say so', async () => {
    expect(thrown(() => timeout(5))).toMatch(/^Error: timeout\(\) must be called inside a greenthread/);
    let t: Timeout | undefined;
    const gt = spawn(function* () {
      t = timeout(10_000);
      yield* sleep(10_000);
    });
    await run(function* () {
      yield* sleep(0);
    });
    expect(thrown(() => t!.run(sleep(0) as never))).toMatch(/must run inside a greenthread|blocks/);
    gt.kill();
  });
});

describe('timeout(): bad arguments', () => {
  it('TypeError or RangeError, naming the argument', async () => {
    await run(function* () {
      expect(thrown(() => timeout(-1))).toMatch(/^RangeError: ms must be >= 0 \(or Infinity\), got -1/);
      expect(thrown(() => timeout('5' as never))).toMatch(/^TypeError: ms must be a number of milliseconds, got a string/);
      expect(thrown(() => timeout(NaN))).toMatch(/^TypeError: ms must be a number/);
      expect(thrown(() => timeout(undefined as never))).toMatch(/^TypeError: ms must be a number/);
      expect(thrown(() => timeout(5, { error: 'slow' } as never))).toMatch(/^TypeError: timeout option error must be an Error class or an Error instance, got a string/);
      expect(thrown(() => timeout(5, { error: (() => new Error()) as never }))).toMatch(/^TypeError: timeout option error/);
      expect(thrown(() => timeout(5, { silent: 'yes' } as never))).toMatch(/^TypeError: timeout option silent must be a boolean/);
      expect(thrown(() => timeout(5, { sielnt: true } as never))).toMatch(/^TypeError: timeout options: unknown option.*'sielnt'/);
      expect(thrown(() => timeout(5, 'x' as never))).toMatch(/^TypeError: timeout options must be an object/);
      const t = timeout(1000);
      expect(thrown(() => t.run((() => {}) as never))).toMatch(/^TypeError: Timeout.run\(\) needs an operation.*got a function/);
      expect(thrown(() => t.reset(-5))).toMatch(/^RangeError: ms must be >= 0/);
      expect(t.pending).toBe(true); // a bad reset changes nothing
      t.cancel();
      expect(thrown(() => withTimeout(5, sleep(0), { dflt: 1 } as never))).toMatch(/^TypeError: withTimeout options: unknown option/);
      expect(thrown(() => withTimeout(-1, sleep(0)))).toMatch(/^RangeError/);
    });
  });

  it('no timer is armed by a call that threw', async () => {
    await run(function* () {
      thrown(() => timeout(5, { silent: 1 } as never));
      expect(getHub().stats().timers).toBe(0);
    });
  });
});

describe('withTimeout(ms, op, { default })', () => {
  it('returns the value when op ends in time, the default only when its own deadline fires', async () => {
    const r = await run(function* () {
      const inTime = yield* withTimeout(1000, (function* () {
        yield* sleep(1);
        return 'value';
      })(), { default: 'dflt' });
      const late = yield* withTimeout(2, sleep(10_000), { default: 'dflt' });
      const undef = yield* withTimeout(2, sleep(10_000), { default: undefined });
      return { inTime, late, undef };
    });
    expect(r).toEqual({ inTime: 'value', late: 'dflt', undef: undefined });
  });

  it("op's own errors, another withTimeout's deadline and kills go through", async () => {
    const boom = new Error('boom');
    const r = await run(function* () {
      const own = yield* outcome(() => withTimeout(1000, (function* () {
        yield* sleep(0);
        throw boom;
      })(), { default: 'dflt' }));
      const outer = yield* outcome(() => withTimeout(5, withTimeout(10_000, sleep(10_000), { default: 'inner' })));
      return { own: own.err === boom, outer: (outer.err as Error).message };
    });
    expect(r).toEqual({ own: true, outer: 'operation timed out after 5 ms' });
    const victim = spawn(function* () {
      return yield* withTimeout(10_000, sleep(10_000), { default: 'dflt' });
    });
    await run(function* () {
      yield* sleep(1);
    });
    victim.kill();
    await expect(Promise.resolve(victim)).rejects.toBeInstanceOf(GreenletExit);
  });
});
