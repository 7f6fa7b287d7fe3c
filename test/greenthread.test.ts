// GreenThread: kill, cancel, wait, then, link, errors (lib/hub/greenthread.ts, lib/hub/hub.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { GreenletExit, current, getHub, sleep, spawn, trampoline, waitFor } from '../lib';
import type { GreenThread, Green } from '../lib';
import { node, run } from './helpers/green';
import { closeAll, pipe, writeStr } from './helpers/raw';

const reported: Array<{ err: unknown; name: string }> = [];
function captureErrors(): void {
  reported.length = 0;
  getHub().onError((err, gt) => reported.push({ err, name: gt.name }));
}
afterEach(() => getHub().onError(null));

/** Lets the hub run a few turns. */
const turns = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

describe('kill', () => {
  it('before the start: the body never runs and waiters get GreenletExit', async () => {
    let ran = false;
    const gt = spawn(function* () {
      ran = true;
    });
    gt.kill();
    expect(gt.dead).toBe(true);
    await expect(Promise.resolve(gt)).rejects.toBeInstanceOf(GreenletExit);
    await turns();
    expect(ran).toBe(false);
  });

  it('while suspended: throws at the suspension point, and finally has run when kill() returns', async () => {
    const log: string[] = [];
    await run(function* () {
      const victim = spawn(function* () {
        try {
          log.push('sleeping');
          yield* sleep(10_000);
          log.push('woke (must not happen)');
        } catch (e) {
          log.push(`caught ${(e as Error).name}`);
          throw e;
        } finally {
          log.push('finally');
        }
      });
      yield* sleep(0);
      victim.kill();
      log.push('kill returned');
      expect(victim.dead).toBe(true);
      expect(getHub().stats().timers).toBe(0); // its sleep timer is gone
    });
    expect(log).toEqual(['sleeping', 'caught GreenletExit', 'finally', 'kill returned']);
  });

  it('with a given error: waiters get that error', async () => {
    const gt = spawn(function* () {
      yield* sleep(10_000);
    });
    await turns();
    const err = new Error('stop now');
    gt.kill(err);
    await expect(Promise.resolve(gt)).rejects.toBe(err);
  });

  it('from outside any greenthread (async code) works the same', async () => {
    let cleaned = false;
    const gt = spawn(function* () {
      try {
        yield* sleep(10_000);
      } finally {
        cleaned = true;
      }
    });
    await turns();
    gt.kill();
    expect(cleaned).toBe(true);
    await expect(Promise.resolve(gt)).rejects.toBeInstanceOf(GreenletExit);
  });

  it('returns when the victim next suspends: a finally that suspends finishes later', async () => {
    const log: string[] = [];
    await run(function* () {
      const victim = spawn(function* () {
        try {
          yield* sleep(10_000);
        } finally {
          log.push('finally start');
          yield* sleep(5);
          log.push('finally end');
        }
      });
      yield* sleep(0);
      victim.kill();
      log.push('kill returned');
      expect(victim.dead).toBe(false);
      try {
        yield* victim.wait();
      } catch (e) {
        log.push(`wait: ${(e as Error).name}`);
      }
    });
    expect(log).toEqual(['finally start', 'kill returned', 'finally end', 'wait: GreenletExit']);
  });

  it('of current() throws at the call site', async () => {
    const out = await run(function* (): Green<string> {
      try {
        current()!.kill();
      } catch (e) {
        return e instanceof GreenletExit ? 'thrown here' : 'wrong error';
      }
      return 'not thrown';
    });
    expect(out).toBe('thrown here');
  });

  it('of a greenthread that is on the stack: it dies at its next suspension', async () => {
    const log: string[] = [];
    const a: GreenThread<void> = spawn(function* killer() {
      const b = spawn(function* victim() {
        try {
          yield* sleep(10_000);
        } finally {
          a.kill(); // a is on the stack (it is killing b): it must die at its next suspension
          log.push('b finally');
        }
      });
      yield* sleep(0);
      b.kill();
      log.push('a after kill');
      yield* sleep(0);
      log.push('a after sleep (must not happen)');
    });
    await expect(Promise.resolve(a)).rejects.toBeInstanceOf(GreenletExit);
    expect(log).toEqual(['b finally', 'a after kill']);
  });

  it('of a finished greenthread does nothing', async () => {
    const gt = spawn(function* () {
      return 7;
    });
    expect(await gt).toBe(7);
    gt.kill(new Error('late'));
    expect(await gt).toBe(7);
  });

  it('removes a wait on an fd: no later wake-up reaches the dead greenthread', async () => {
    const [r, w] = pipe();
    const gt = spawn(function* () {
      yield* trampoline(r, { read: true });
    });
    await turns();
    expect(getHub().stats().fdWaiters).toBe(1);
    gt.kill();
    expect(getHub().stats().fdWaiters).toBe(0);
    expect(getHub().stats().registeredFds).toBe(0);
    writeStr(w, 'x');
    await turns();
    await expect(Promise.resolve(gt)).rejects.toBeInstanceOf(GreenletExit);
    closeAll(r, w);
  });

  it('removes a wait on a promise: its later settlement is ignored', async () => {
    let resolve!: (v: number) => void;
    const p = new Promise<number>((r) => (resolve = r));
    let after = false;
    const gt = spawn(function* () {
      yield* waitFor(p);
      after = true;
    });
    await turns();
    gt.kill();
    resolve(1);
    await turns();
    expect(after).toBe(false);
    await expect(Promise.resolve(gt)).rejects.toBeInstanceOf(GreenletExit);
  });

  it('is never reported as an uncaught error', async () => {
    captureErrors();
    const gts = [0, 1, 2].map(() => spawn(function* () { yield* sleep(10_000); }));
    const notStarted = spawn(function* () {});
    notStarted.kill();
    await turns();
    for (const gt of gts) gt.kill();
    await turns();
    expect(reported).toEqual([]);
  });
});

describe('cancel', () => {
  it('kills only a greenthread that has not started', async () => {
    const a = spawn(function* () {
      yield* sleep(5);
      return 'a';
    });
    expect(a.cancel()).toBe(true);
    const b = spawn(function* () {
      yield* sleep(5);
      return 'b';
    });
    await turns();
    expect(b.cancel()).toBe(false);
    expect(await b).toBe('b');
  });
});

describe('wait and then', () => {
  it('return the result or throw the error, from a greenthread and from async code', async () => {
    const ok = spawn(function* () {
      yield* sleep(1);
      return { v: 1 };
    });
    const bad = spawn(function* () {
      yield* sleep(1);
      throw new Error('bad');
    });
    const badSeen = Promise.resolve(bad).catch((e: Error) => e.message); // observed at once
    const inside = await run(function* (): Green<string[]> {
      const out: string[] = [];
      out.push(JSON.stringify(yield* ok.wait()));
      try {
        yield* bad;
      } catch (e) {
        out.push((e as Error).message);
      }
      return out;
    });
    expect(inside).toEqual(['{"v":1}', 'bad']);
    expect(await ok).toEqual({ v: 1 });
    expect(await badSeen).toBe('bad');
  });

  it('wakes every waiter, in the order they started waiting', async () => {
    const order: number[] = [];
    const target = spawn(function* () {
      yield* sleep(5);
      return 'done';
    });
    const waiters = [1, 2, 3, 4].map((i) =>
      spawn(function* () {
        yield* target.wait();
        order.push(i);
      }),
    );
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it('gives a greenthread waiting on itself a clear error, not a hang', async () => {
    const gt: GreenThread<void> = spawn(function* () {
      yield* gt.wait();
    });
    await expect(Promise.resolve(gt)).rejects.toThrow(/cannot wait for itself/);
  });

  it('throws when wait() is called outside a greenthread', () => {
    const gt = spawn(function* () {});
    expect(() => gt.wait()).toThrow(/inside a greenthread/);
    gt.kill();
  });
});

describe('uncaught errors', () => {
  it('reach the error handler at the end of the turn when nobody observes them; the hub keeps running', async () => {
    captureErrors();
    const err = new Error('nobody listens');
    spawn(function* broken() {
      throw err;
    });
    const survivor = await run(function* () {
      yield* sleep(5);
      return 'still running';
    });
    expect(survivor).toBe('still running');
    expect(reported).toEqual([{ err, name: 'broken' }]);
  });

  it('are not reported when a waiter, a then or a link observes them', async () => {
    captureErrors();
    const waited = spawn(function* () {
      yield* sleep(1);
      throw new Error('waited');
    });
    const awaited = spawn(function* () {
      throw new Error('awaited');
    });
    const linked = spawn(function* () {
      throw new Error('linked');
    });
    linked.link(() => {});
    const p = Promise.resolve(awaited).catch((e: Error) => e.message);
    await run(function* () {
      try {
        yield* waited.wait();
      } catch {
        /* observed */
      }
    });
    expect(await p).toBe('awaited');
    await turns();
    expect(reported).toEqual([]);
  });

  it('are printed by the default handler with the name and stack', () => {
    const r = node(`
      const { spawn, sleep } = require('./dist');
      spawn(function* exploder() { yield* sleep(1); throw new Error('kaboom'); });
      spawn(function* after() { yield* sleep(20); console.log('hub still runs'); });
    `);
    expect(r.stderr).toContain('uncaught error in greenthread "exploder"');
    expect(r.stderr).toContain('Error: kaboom');
    expect(r.stdout.trim()).toBe('hub still runs');
    expect(r.status).toBe(1); // like Node's unhandled rejection (test/exit-codes.test.ts)
  });
});

describe('link', () => {
  it('calls back at the end, with the greenthread; unlink removes; a dead one calls back at once', async () => {
    const calls: string[] = [];
    const gt = spawn(function* named() {
      yield* sleep(1);
      return 3;
    });
    const cb = (g: GreenThread<number>) => calls.push(`first ${g.name}`);
    const removed = () => calls.push('removed');
    gt.link(cb);
    gt.link(removed);
    expect(gt.unlink(removed)).toBe(true);
    expect(gt.unlink(removed)).toBe(false);
    await gt;
    gt.link(() => calls.push('late'));
    expect(calls).toEqual(['first named', 'late']);
    expect(() => gt.link(5 as never)).toThrow(TypeError);
  });

  it('a callback linked twice is called twice, in link order, as eventlet does', async () => {
    const calls: string[] = [];
    const gt = spawn(function* () {
      yield* sleep(1);
    });
    const a = () => calls.push('a');
    gt.link(a);
    gt.link(() => calls.push('b'));
    gt.link(a);
    await gt;
    expect(calls).toEqual(['a', 'b', 'a']);
  });
});

describe('stats', () => {
  it('counts switches; run time only with accounting on', async () => {
    const hub = getHub();
    const body = function* (): Green<void> {
      for (let i = 0; i < 3; i++) yield* sleep(0);
      const end = performance.now() + 5;
      while (performance.now() < end) {
        /* burn */
      }
    };
    const off = spawn(body);
    await off;
    expect(off.stats).toEqual({ switches: 4, runTimeMs: 0 });
    hub.accounting = true;
    try {
      const on = spawn(body);
      await on;
      expect(on.stats.switches).toBe(4);
      expect(on.stats.runTimeMs).toBeGreaterThanOrEqual(5);
    } finally {
      hub.accounting = false;
    }
  });
});
