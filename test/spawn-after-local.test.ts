// spawnAfterLocal: a delayed start cancelled if its scheduler ends first (lib/spawn-after-local.ts)
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GreenletExit, current, getHub, sleep, spawn } from '../lib';
import type { Green, GreenThread } from '../lib';
import { spawnAfterLocal } from '../lib/spawn-after-local';
import { run, thrown } from './helpers/green';

const reported: unknown[] = [];
beforeEach(() => {
  reported.length = 0;
  getHub().onError((err) => reported.push(err));
});
afterEach(() => {
  getHub().onError(null);
  expect(getHub().stats().timers, 'timers left behind').toBe(0);
  expect(reported).toEqual([]);
});

/** Link callbacks a greenthread holds (internal hooks included): none may be left behind. */
function hooks<T>(gt: GreenThread<T>): number {
  return (gt as unknown as { linkList?: Set<unknown> }).linkList?.size ?? 0;
}

/** What waiting for gt gives: its value, or the error's name and message. */
function* outcome<T>(gt: GreenThread<T>): Green<string> {
  try {
    return `value ${String(yield* gt.wait())}`;
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

describe('spawnAfterLocal', () => {
  it('the scheduler ends before the delay: the body never runs, waiters get GreenletExit', async () => {
    let ran = false;
    let child: GreenThread<string> | undefined;
    const parent = spawn(function* scheduler() {
      child = spawnAfterLocal(20, function* () {
        ran = true;
        return 'ran';
      });
      yield* sleep(1);
    });
    await parent;
    expect(child!.dead).toBe(true);
    const r = await run(function* () {
      const got = yield* outcome(child!);
      yield* sleep(40); // past the delay: still nothing
      return got;
    });
    expect(r).toMatch(/^GreenletExit: cancelled: greenthread \d+ \(scheduler\), which scheduled it, ended first$/);
    expect(ran).toBe(false);
  });

  it('the scheduler still alive: the body runs after the delay with its arguments, and no hook is left on either', async () => {
    const r = await run(function* () {
      const me = getHub().current!;
      const t0 = performance.now();
      const child = spawnAfterLocal(20, function* add(a: number, b: number): Green<number> {
        yield* sleep(0);
        return a + b;
      }, 2, 3);
      const during = hooks(me);
      const v = yield* child.wait();
      return { v, elapsed: performance.now() - t0, during, after: [hooks(me), hooks(child)], name: child.name };
    });
    expect(r.v).toBe(5);
    expect(r.elapsed).toBeGreaterThanOrEqual(19);
    expect(r.during).toBe(1);
    expect(r.after).toEqual([0, 0]);
    expect(r.name).toBe('add');
  });

  it('once started, the child outlives its scheduler', async () => {
    let child: GreenThread<string> | undefined;
    const parent = spawn(function* () {
      child = spawnAfterLocal(1, function* () {
        yield* sleep(30);
        return 'finished';
      });
      yield* sleep(10); // the child has started by now
    });
    await parent;
    expect(await child!).toBe('finished');
  });

  it('the scheduler killed (or throwing) before the delay: cancelled too', async () => {
    let killedChild: GreenThread<void> | undefined;
    const victim = spawn(function* () {
      killedChild = spawnAfterLocal(10_000, function* () {});
      yield* sleep(10_000);
    });
    let thrownChild: GreenThread<void> | undefined;
    const thrower = spawn(function* () {
      thrownChild = spawnAfterLocal(10_000, function* () {});
      yield* sleep(0);
      throw new Error('boom');
    });
    thrower.link(() => {}); // observed: not reported to the error handler
    await run(function* () {
      yield* sleep(1);
    });
    victim.kill();
    await expect(Promise.resolve(thrower)).rejects.toThrow('boom');
    const r = await run(function* () {
      return [yield* outcome(killedChild!), yield* outcome(thrownChild!)];
    });
    expect(r[0]).toMatch(/^GreenletExit: cancelled/);
    expect(r[1]).toMatch(/^GreenletExit: cancelled/);
  });

  it('with ms 0: a scheduler that ends in the same turn cancels it; one that yields lets it start', async () => {
    let ranEarly = false;
    let early: GreenThread<void> | undefined;
    await spawn(function* () {
      early = spawnAfterLocal(0, function* () {
        ranEarly = true;
      });
    });
    const r = await run(function* () {
      const child = spawnAfterLocal(0, function* () {
        return 'started';
      });
      yield* sleep(0);
      return yield* outcome(child);
    });
    expect(ranEarly).toBe(false);
    expect(early!.dead).toBe(true);
    expect(r).toBe('value started');
  });

  it('cancelled by the user: cancel() is true, the scheduler keeps no hook and ends quietly', async () => {
    const r = await run(function* () {
      const me = getHub().current!;
      const child = spawnAfterLocal(10_000, function* () {});
      const cancelled = child.cancel();
      const got = yield* outcome(child);
      return { cancelled, got, hooks: hooks(me) };
    });
    expect(r).toEqual({ cancelled: true, got: 'GreenletExit: greenthread killed', hooks: 0 });
  });

  it('many children from a long-lived scheduler leave no hooks behind', async () => {
    const r = await run(function* () {
      const me = getHub().current!;
      const children: GreenThread<number>[] = [];
      for (let i = 0; i < 50; i++) {
        children.push(spawnAfterLocal(1, function* () {
          return i;
        }));
        if (i % 2 === 1) children[i - 1].cancel();
      }
      let sum = 0;
      for (let i = 1; i < 50; i += 2) sum += yield* children[i].wait();
      return { sum, hooks: hooks(me) };
    });
    expect(r).toEqual({ sum: 625, hooks: 0 });
  });

  it('the options form names the greenthread and sets its priority', async () => {
    const r = await run(function* () {
      const child = spawnAfterLocal(1, { name: 'reminder', priority: 'high' }, function* (x: string) {
        return x;
      }, 'hi');
      return { name: child.name, priority: child.priority, v: yield* child.wait() };
    });
    expect(r).toEqual({ name: 'reminder', priority: 'high', v: 'hi' });
  });

  it('outside a greenthread: a clear Error, nothing scheduled', () => {
    const before = getHub().stats().greenthreads;
    expect(thrown(() => spawnAfterLocal(10, function* () {}))).toMatch(
      /^Error: spawnAfterLocal\(\) must be called inside a greenthread.*use spawnAfter/,
    );
    expect(getHub().stats().greenthreads).toBe(before);
  });

  it('bad arguments: TypeError/RangeError naming them, nothing scheduled, no hook left', async () => {
    const r = await run(function* () {
      const me = getHub().current!;
      const before = getHub().stats().greenthreads;
      const msgs = [
        thrown(() => spawnAfterLocal(-1, function* () {})),
        thrown(() => spawnAfterLocal('5' as never, function* () {})),
        thrown(() => spawnAfterLocal(Infinity, function* () {})),
        thrown(() => spawnAfterLocal(5, 'not a function' as never)),
        thrown(() => spawnAfterLocal(5, async function () {} as never)),
        thrown(() => spawnAfterLocal(5, { nmae: 'x' } as never, function* () {})),
        thrown(() => spawnAfterLocal(5, (function* () {})() as never)),
      ];
      return { msgs, spawned: getHub().stats().greenthreads - before, hooks: hooks(me) };
    });
    expect(r.msgs[0]).toMatch(/^RangeError: ms must be a finite number >= 0, got -1/);
    expect(r.msgs[1]).toMatch(/^TypeError: ms must be a number/);
    expect(r.msgs[2]).toMatch(/^RangeError: ms must be a finite number/);
    expect(r.msgs[3]).toMatch(/^TypeError: spawn needs a generator function/);
    expect(r.msgs[4]).toMatch(/^TypeError: spawn cannot run an async function/);
    expect(r.msgs[5]).toMatch(/^TypeError: spawn options: unknown option/);
    expect(r.msgs[6]).toMatch(/^TypeError: spawn needs a function to call/);
    expect(r.spawned).toBe(0);
    expect(r.hooks).toBe(0);
  });

  it("a child's error is its own: reported as usual, the scheduler unaffected", async () => {
    const r = await run(function* () {
      const child = spawnAfterLocal(1, function* () {
        throw new Error('child failed');
      });
      return yield* outcome(child);
    });
    expect(r).toBe('Error: child failed');
  });
});

describe('spawnAfterLocal at scale', () => {
  it('20,000 scheduled by one greenthread all start, and leave no hook on it', async () => {
    const r = await run(function* () {
      let started = 0;
      const me = current()!;
      for (let i = 0; i < 20_000; i++) spawnAfterLocal(1, function* () { started++; });
      while (started < 20_000) yield* sleep(1);
      return { started, hooksLeft: hooks(me) };
    });
    expect(r).toEqual({ started: 20_000, hooksLeft: 0 });
  });
});
