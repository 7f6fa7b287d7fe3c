// GreenPool, GreenPile and GreenIterator (lib/sync/green-pool.ts, lib/sync/green-pile.ts)
import { describe, expect, it } from 'vitest';
import { GreenPile, GreenPool, getHub, sleep, spawn, withTimeout } from '../lib';
import type { Green } from '../lib';
import { run } from './helpers/green';

function* double(x: number): Green<number> {
  yield* sleep(0);
  return x * 2;
}

describe('GreenPool', () => {
  it('runs at most size greenthreads; spawn waits while full', async () => {
    const pool = new GreenPool(3);
    let active = 0;
    let peak = 0;
    function* job(): Green<void> {
      active++;
      peak = Math.max(peak, active);
      yield* sleep(2);
      active--;
    }
    await run(function* () {
      for (let i = 0; i < 10; i++) {
        yield* pool.spawnN(job);
        expect(pool.running()).toBeLessThanOrEqual(3);
      }
      yield* pool.waitAll();
    });
    expect(peak).toBe(3);
    expect(pool.running()).toBe(0);
    expect(pool.free()).toBe(3);
  });

  it('spawn returns the GreenThread; waiting() counts blocked spawners; resize lets them in', async () => {
    const pool = new GreenPool(1);
    await run(function* () {
      const first = yield* pool.spawn(function* () {
        yield* sleep(10_000);
        return 'never';
      });
      const spawner = spawn(function* () {
        const gt = yield* pool.spawn(double, 21);
        return yield* gt.wait();
      });
      yield* sleep(1);
      expect(pool.waiting()).toBe(1);
      pool.resize(2);
      expect(yield* spawner.wait()).toBe(42);
      first.kill();
    });
  });

  it('a spawner killed after it was granted a slot gives the slot back', async () => {
    const pool = new GreenPool(1);
    await run(function* () {
      const blocker = yield* pool.spawn(function* () {
        yield* sleep(10_000);
      });
      const doomed = spawn(function* () {
        yield* pool.spawn(function* () {});
      });
      const next = spawn(function* () {
        const gt = yield* pool.spawn(double, 1);
        return yield* gt.wait();
      });
      yield* sleep(0);
      blocker.kill(); // frees the slot: granted to `doomed`…
      doomed.kill(); // …which dies before using it
      expect(yield* next.wait()).toBe(2);
    });
    expect(pool.free()).toBe(1);
  });

  it('waitAll returns when a spawner granted a slot is killed before it used it', async () => {
    const pool = new GreenPool(1);
    await run(function* () {
      const blocker = yield* pool.spawn(function* () {
        yield* sleep(10_000);
      });
      const doomed = spawn(function* () {
        yield* pool.spawn(function* () {});
      });
      yield* sleep(0);
      blocker.kill(); // the slot goes to `doomed`…
      doomed.kill(); // …which dies before it spawns
      yield* withTimeout(1000, pool.waitAll());
    });
    expect(pool.running()).toBe(0);
  });

  it('imap yields results in input order; imapUnordered as they finish', async () => {
    const pool = new GreenPool(4);
    const r = await run(function* () {
      const delays = [8, 1, 4, 2];
      const job = function* (ms: number): Green<number> {
        yield* sleep(ms);
        return ms;
      };
      const ordered: number[] = [];
      const it = pool.imap(job, delays);
      for (;;) {
        const x = yield* it.next();
        if (x.done) break;
        ordered.push(x.value);
      }
      const unordered: number[] = [];
      const it2 = pool.imapUnordered(job, delays);
      for (;;) {
        const x = yield* it2.next();
        if (x.done) break;
        unordered.push(x.value);
      }
      return { ordered, unordered };
    });
    expect(r.ordered).toEqual([8, 1, 4, 2]);
    expect(r.unordered).toEqual([1, 2, 4, 8]);
  });

  it('imap over 100,000 items with a pool of 10 reads lazily and never buffers more than 10 results', async () => {
    const pool = new GreenPool(10);
    let read = 0;
    function* input(): Generator<number> {
      for (let i = 0; i < 100_000; i++) {
        read++;
        yield i;
      }
    }
    const r = await run(function* () {
      const it = pool.imap(function* square(x: number): Green<number> {
        return x * x;
      }, input());
      let maxBuffered = 0;
      let maxAhead = 0;
      let sum = 0;
      let n = 0;
      for (;;) {
        const x = yield* it.next();
        if (x.done) break;
        maxBuffered = Math.max(maxBuffered, it.buffered);
        maxAhead = Math.max(maxAhead, read - n);
        sum += x.value % 7;
        n++;
      }
      return { n, maxBuffered, maxAhead, sum };
    });
    expect(r.n).toBe(100_000);
    expect(r.maxBuffered).toBeLessThanOrEqual(10);
    expect(r.maxAhead).toBeLessThanOrEqual(11);
  });

  it('imap throws a job\'s error at its place, and for await works from async code', async () => {
    const pool = new GreenPool(2);
    const err = await run(function* (): Green<string> {
      const it = pool.imap(function* (x: number): Green<number> {
        if (x === 2) throw new Error('bad item 2');
        return x;
      }, [0, 1, 2, 3]);
      const got: number[] = [];
      try {
        for (;;) {
          const r = yield* it.next();
          if (r.done) break;
          got.push(r.value);
        }
      } catch (e) {
        return `${got.join(',')} then ${(e as Error).message}`;
      }
      return 'no error';
    });
    expect(err).toBe('0,1 then bad item 2');
    const collected: number[] = [];
    for await (const v of pool.imap(double, [1, 2, 3])) collected.push(v);
    expect(collected).toEqual([2, 4, 6]);
    expect(getHub().stats().uncaughtErrors).toBe(0);
  });

  it('rejects bad arguments', async () => {
    expect(() => new GreenPool(-1)).toThrow(RangeError);
    await run(function* () {
      expect(() => new GreenPool(1).spawn(5 as never)).toThrow(TypeError);
      expect(() => new GreenPool(1).imap(5 as never, [])).toThrow(TypeError);
      expect(() => new GreenPool(1).imap(double, 5 as never)).toThrow(TypeError);
    });
  });
});

describe('GreenPile', () => {
  it('iterates results in spawn order', async () => {
    const pile = new GreenPile<number>(3);
    const r = await run(function* () {
      for (const ms of [6, 1, 3, 0]) {
        yield* pile.spawn(function* (): Green<number> {
          yield* sleep(ms);
          return ms;
        });
      }
      const out: number[] = [];
      for (;;) {
        const x = yield* pile.next();
        if (x.done) break;
        out.push(x.value);
      }
      return out;
    });
    expect(r).toEqual([6, 1, 3, 0]);
  });

  it('shares a pool and iterates with for await', async () => {
    const pool = new GreenPool(2);
    const pile = new GreenPile<number>(pool);
    await run(function* () {
      for (const x of [1, 2, 3]) yield* pile.spawn(double, x);
    });
    const out: number[] = [];
    for await (const v of pile) out.push(v);
    expect(out).toEqual([2, 4, 6]);
    expect(() => new GreenPile('x' as never)).toThrow(TypeError);
  });
});
