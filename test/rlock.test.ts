// RLock (lib/sync/rlock.ts)
import { describe, expect, it } from 'vitest';
import { getHub, sleep, spawn } from '../lib';
import type { Green } from '../lib';
import { RLock } from '../lib/sync/rlock';
import { catching, run } from './helpers/green';

describe('RLock', () => {
  it('the owner may acquire again; the lock is free once released as often', async () => {
    const lock = new RLock();
    const order: string[] = [];
    await run(function* () {
      expect(yield* lock.acquire()).toBe(true);
      expect(yield* lock.acquire({ timeoutMs: 0 })).toBe(true);
      expect(lock.count).toBe(2);
      expect(lock.ownedByCurrent()).toBe(true);
      const other = spawn(function* () {
        yield* lock.acquire();
        order.push('other');
        lock.release();
      });
      yield* sleep(1);
      expect(lock.waiting).toBe(1);
      lock.release();
      yield* sleep(1);
      expect(order).toEqual([]); // still held once
      order.push('owner done');
      lock.release();
      yield* other.wait();
    });
    expect(order).toEqual(['owner done', 'other']);
    expect(lock.locked).toBe(false);
  });

  it('waiters are FIFO and are handed the lock (no barging)', async () => {
    const lock = new RLock();
    const order: string[] = [];
    await run(function* () {
      yield* lock.acquire();
      const waiters = [1, 2, 3].map((i) =>
        spawn(function* () {
          yield* lock.acquire();
          order.push(`w${i}`);
          yield* sleep(0);
          lock.release();
        }),
      );
      yield* sleep(0);
      lock.release(); // handed to w1, not yet resumed
      expect(lock.locked).toBe(true);
      const newcomer = spawn(function* () {
        return yield* lock.acquire({ timeoutMs: 0 });
      });
      expect(yield* newcomer.wait()).toBe(false);
      for (const w of waiters) yield* w.wait();
    });
    expect(order).toEqual(['w1', 'w2', 'w3']);
  });

  it('acquire({ timeoutMs }) returns false and leaves the queue', async () => {
    const lock = new RLock();
    const holder = spawn(() => lock.withLock(sleep(10_000)));
    const r = await run(function* () {
      yield* sleep(0);
      return yield* lock.acquire({ timeoutMs: 5 });
    });
    expect(r).toBe(false);
    expect(lock.waiting).toBe(0);
    holder.kill();
    expect(lock.locked).toBe(false);
  });

  it('release by a non-owner, from outside a greenthread, or when not held is a coded error', async () => {
    const lock = new RLock();
    expect(() => lock.release()).toThrow(expect.objectContaining({ code: 'ERR_RLOCK_NOT_OWNER', message: expect.stringMatching(/not held/) }));
    await run(function* () {
      yield* lock.acquire();
      const intruder = spawn(function* () {
        lock.release();
      });
      const err = yield* catching(intruder.wait());
      expect(err).toMatchObject({ code: 'ERR_RLOCK_NOT_OWNER', message: expect.stringMatching(/only the owner/) });
      expect(lock.count).toBe(1);
      lock.release();
    });
    expect(() => lock.release()).toThrow(/not held/);
  });

  it('a waiter killed after it was handed the lock gives it back to the next', async () => {
    const lock = new RLock();
    await run(function* () {
      yield* lock.acquire();
      const doomed = spawn(function* () {
        yield* lock.acquire();
        throw new Error('must not get here');
      });
      const next = spawn(function* () {
        yield* lock.acquire();
        lock.release();
        return 'next got it';
      });
      yield* sleep(0);
      lock.release(); // handed to doomed
      doomed.kill();
      expect(yield* next.wait()).toBe('next got it');
    });
    expect(lock.locked).toBe(false);
  });

  it('a killed waiter leaves the queue; a killed holder inside withLock releases', async () => {
    const lock = new RLock();
    await run(function* () {
      const holder = spawn(() => lock.withLock((function* () {
        yield* lock.withLock(sleep(10_000)); // re-entrant
      })()));
      yield* sleep(0);
      expect(lock.count).toBe(2);
      const waiter = spawn(() => lock.acquire());
      yield* sleep(0);
      waiter.kill();
      expect(lock.waiting).toBe(0);
      holder.kill();
      expect(lock.locked).toBe(false);
    });
  });

  it('an owner that ends holding it: the lock is released, handed on, and a warning names it', async () => {
    const warnings: string[] = [];
    getHub().onWarning((m) => void warnings.push(m));
    try {
      const lock = new RLock();
      await run(function* () {
        const careless = spawn({ name: 'careless' }, function* () {
          yield* lock.acquire();
          yield* lock.acquire();
          // returns without releasing
        });
        yield* careless.wait();
        expect(lock.locked).toBe(false);
        expect(yield* lock.acquire({ timeoutMs: 1000 })).toBe(true); // no deadlock
        // …and one that dies while others wait: the first waiter gets it
        const dying = spawn(function* (): Green<void> {
          yield* lock.acquire();
          yield* sleep(2);
          throw new Error('boom');
        });
        lock.release();
        yield* sleep(0);
        const waiter = spawn(function* () {
          const ok = yield* lock.acquire();
          lock.release();
          return ok;
        });
        yield* catching(dying.wait());
        expect(yield* waiter.wait()).toBe(true);
      });
      expect(warnings[0]).toMatch(/RLock released: greenthread \d+ \(careless\) ended while holding it \(2 acquire/);
      expect(warnings.length).toBe(2);
    } finally {
      getHub().onWarning(null);
    }
  });

  it('rejects bad arguments; a forgotten yield* takes nothing', async () => {
    const lock = new RLock();
    expect(() => lock.acquire()).toThrow(/inside a greenthread/);
    await run(function* () {
      expect(() => lock.acquire({ timeoutMs: -1 })).toThrow(RangeError);
      expect(() => lock.acquire({ timeout: 1 } as never)).toThrow(/unknown option/);
      expect(() => lock.withLock(5 as never)).toThrow(TypeError);
      lock.acquire();
      expect(lock.locked).toBe(false);
    });
  });
});

