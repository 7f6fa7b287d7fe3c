// Semaphore, BoundedSemaphore, Lock (lib/sync/semaphore.ts)
import { describe, expect, it } from 'vitest';
import { BoundedSemaphore, GreenletExit, Lock, Semaphore, sleep, spawn } from '../lib';
import type { Green } from '../lib';
import { run } from './helpers/green';

describe('Semaphore', () => {
  it('lets n holders in and queues the rest in FIFO order', async () => {
    const sem = new Semaphore(2);
    const order: number[] = [];
    const gts = [1, 2, 3, 4, 5].map((i) =>
      spawn(function* () {
        yield* sem.acquire();
        order.push(i);
        yield* sleep(2);
        sem.release();
      }),
    );
    await Promise.all(gts);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(sem.count).toBe(2);
  });

  it('never lets a newcomer overtake a waiter (no barging)', async () => {
    const sem = new Semaphore(1);
    const order: string[] = [];
    await run(function* () {
      yield* sem.acquire(); // held by us
      const waiter = spawn(function* () {
        yield* sem.acquire();
        order.push('waiter');
        sem.release();
      });
      yield* sleep(0); // the waiter is queued
      sem.release(); // handed to the waiter, which has not run yet
      expect(sem.count).toBe(0);
      const ok = yield* sem.acquire({ timeoutMs: 0 }); // a newcomer: must not get it
      order.push(`newcomer got it: ${ok}`);
      yield* waiter.wait();
    });
    expect(order).toEqual(['newcomer got it: false', 'waiter']);
  });

  it('acquire returns false past timeoutMs and leaves the count alone', async () => {
    const sem = new Semaphore(0);
    const r = await run(function* () {
      return yield* sem.acquire({ timeoutMs: 5 });
    });
    expect(r).toBe(false);
    expect(sem.count).toBe(0);
    expect(sem.waiting).toBe(0);
  });

  it('a waiter killed after it was handed the permit gives it back', async () => {
    const sem = new Semaphore(1);
    await run(function* () {
      yield* sem.acquire();
      const waiter = spawn(function* () {
        yield* sem.acquire();
        throw new Error('must not get here');
      });
      const second = spawn(function* () {
        yield* sem.acquire();
        sem.release();
        return 'second got it';
      });
      yield* sleep(0);
      sem.release(); // handed to `waiter`
      waiter.kill(); // before it resumed
      expect(yield* second.wait()).toBe('second got it');
    });
    expect(sem.count).toBe(1);
  });

  it('a killed waiter leaves the queue and the count intact', async () => {
    const sem = new Semaphore(0);
    const gt = spawn(function* () {
      yield* sem.acquire();
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(sem.waiting).toBe(1);
    gt.kill();
    expect(sem.waiting).toBe(0);
    sem.release();
    expect(sem.count).toBe(1);
  });

  it('rejects bad arguments', async () => {
    expect(() => new Semaphore(-1)).toThrow(RangeError);
    expect(() => new Semaphore('2' as never)).toThrow(TypeError);
    await run(function* () {
      expect(() => new Semaphore().acquire({ timeoutMs: -1 })).toThrow(RangeError);
      expect(() => new Semaphore().withLock(5 as never)).toThrow(TypeError);
    });
  });
});

describe('BoundedSemaphore and Lock', () => {
  it('BoundedSemaphore refuses a release above its initial value', async () => {
    const b = new BoundedSemaphore(2);
    expect(() => b.release()).toThrow(/released too many times/);
    await run(function* () {
      yield* b.acquire();
      b.release();
    });
    expect(b.count).toBe(2);
  });

  it('withLock releases on return, on error and on kill', async () => {
    const lock = new Lock();
    await run(function* () {
      yield* lock.withLock((function* () { yield* sleep(0); })());
      expect(lock.locked).toBe(false);
      try {
        yield* lock.withLock((function* () { throw new Error('inside'); })());
      } catch {
        /* expected */
      }
      expect(lock.locked).toBe(false);
      const holder = spawn(function* () {
        yield* lock.withLock(sleep(10_000));
      });
      yield* sleep(0);
      expect(lock.locked).toBe(true);
      holder.kill();
      expect(lock.locked).toBe(false);
    });
    expect(() => lock.release()).toThrow(/released too many times/);
  });

  it('serialises critical sections', async () => {
    const lock = new Lock();
    let inside = 0;
    let max = 0;
    const gts = Array.from({ length: 10 }, () =>
      spawn(function* (): Green<void> {
        yield* lock.withLock((function* () {
          inside++;
          max = Math.max(max, inside);
          yield* sleep(0);
          inside--;
        })());
      }),
    );
    await Promise.all(gts);
    expect(max).toBe(1);
    await expect(Promise.resolve(spawn(function* () { throw new GreenletExit(); }))).rejects.toBeInstanceOf(GreenletExit);
  });
});
