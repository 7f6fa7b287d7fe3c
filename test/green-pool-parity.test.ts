// GreenPool's eventlet parity: starmap, imap over several inputs, async iterables as input
// (lib/sync/green-pool.ts, lib/sync/green-iterator.ts)
import { describe, expect, it } from 'vitest';
import { GreenPool, sleep, spawn } from '../lib';
import type { Green, GreenIterator } from '../lib';
import { run } from './helpers/green';

/** Every result (an error at its place as `error: message`). */
function* drain<T>(it: GreenIterator<T>): Green<Array<T | string>> {
  const out: Array<T | string> = [];
  for (;;) {
    try {
      const r = yield* it.next();
      if (r.done) return out;
      out.push(r.value);
    } catch (e) {
      out.push(`error: ${(e as Error).message}`);
    }
  }
}

function* add(a: number, b: number): Green<number> {
  yield* sleep(0);
  return a + b;
}

describe('GreenPool.starmap', () => {
  it('calls fn(...item) for each item and yields results in input order', async () => {
    const pool = new GreenPool(2);
    const out = await run(() => drain(pool.starmap(add, [[1, 2], [3, 4], [5, 6]])));
    expect(out).toEqual([3, 7, 11]);
  });

  it('an item that is not an argument list ends the iteration with a TypeError after the results before it', async () => {
    const pool = new GreenPool(2);
    const out = await run(() => drain(pool.starmap(add, [[1, 1], 5 as never, [2, 2]])));
    expect(out).toEqual([2, 'error: starmap: each input item must be an array of arguments, got 5']);
  });

  it('reads an async iterable of argument lists', async () => {
    async function* args(): AsyncGenerator<[number, number]> {
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 1));
        yield [i, 10];
      }
    }
    const pool = new GreenPool(3);
    expect(await run(() => drain(pool.starmap(add, args())))).toEqual([10, 11, 12, 13]);
  });
});

describe('GreenPool.imap over several inputs', () => {
  it('zips the inputs and stops at the shortest, closing the longer ones', async () => {
    let closed = false;
    function* naturals(): Generator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const pool = new GreenPool(4);
    const out = await run(() => drain(pool.imap(add, [100, 200, 300], naturals())));
    expect(out).toEqual([100, 201, 302]);
    expect(closed).toBe(true);
  });

  it('imapUnordered zips too; fn gets one item of each input', async () => {
    const pool = new GreenPool(4);
    const out = await run(() =>
      drain(pool.imapUnordered(function* (ms: number, tag: string): Green<string> {
        yield* sleep(ms);
        return tag;
      }, [30, 1, 10], ['slow', 'fast', 'mid', 'unused'])),
    );
    expect(out).toEqual(['fast', 'mid', 'slow']);
  });

  it('an empty input gives no results', async () => {
    const pool = new GreenPool(2);
    expect(await run(() => drain(pool.imap(add, [], [1, 2])))).toEqual([]);
  });

  it('rejects no inputs and non-iterable inputs, naming which', async () => {
    const pool = new GreenPool(2);
    expect(() => (pool.imap as (fn: unknown, ...i: unknown[]) => unknown)(add)).toThrow(/at least one input/);
    expect(() => pool.imap(add as never, 5 as never)).toThrow(/input must be an iterable or async iterable, got 5/);
    expect(() => pool.imap(add, [1], 5 as never)).toThrow(/input 2 must be an iterable/);
    expect(() => pool.starmap(add, null as never)).toThrow(TypeError);
    expect(() => pool.imap(5 as never, [1])).toThrow(/fn must be a function/);
  });
});

describe('async iterables as input', () => {
  it('imap reads an async generator lazily: at most size items ahead of the consumer', async () => {
    let read = 0;
    async function* source(): AsyncGenerator<number> {
      for (let i = 1; i <= 10; i++) {
        read++;
        yield i;
      }
    }
    const pool = new GreenPool(2);
    await run(function* () {
      const it = pool.imap(function* (x: number): Green<number> {
        yield* sleep(0);
        return x * 2;
      }, source());
      yield* sleep(5);
      expect(read).toBe(0); // nothing read before the first next()
      expect((yield* it.next()).value).toBe(2);
      yield* sleep(5);
      expect(read).toBeLessThanOrEqual(1 + 2 + 1); // taken + at most size in flight (+ the one being read)
      const rest = yield* drain(it);
      expect(rest).toEqual([4, 6, 8, 10, 12, 14, 16, 18, 20]);
    });
    expect(read).toBe(10);
  });

  it('a rejected async input ends the iteration with its error after the results before it', async () => {
    async function* source(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      throw new Error('stream broke');
    }
    const pool = new GreenPool(2);
    const out = await run(() => drain(pool.imap(add, source(), [10, 20, 30, 40])));
    expect(out).toEqual([11, 22, 'error: stream broke']);
  });

  it('close() while the feeder awaits an async input: no hang, the input is told to return', async () => {
    let returned = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          await gate;
          return { done: false, value: 1 };
        },
        return: async () => {
          returned = true;
          return { done: true, value: undefined };
        },
      }),
    };
    const pool = new GreenPool(2);
    await run(function* () {
      const it = pool.imap(add, source, [1]);
      const consumer = spawn(() => it.next());
      yield* sleep(5);
      expect(consumer.dead).toBe(false);
      it.close();
      expect((yield* consumer.wait()).done).toBe(true);
      expect(returned).toBe(true);
      expect(pool.running()).toBe(0);
    });
    release();
  });

  it('for await from async code over imap of an async input', async () => {
    async function* source(): AsyncGenerator<number> {
      yield* [1, 2, 3];
    }
    const pool = new GreenPool(2);
    const got: number[] = [];
    for await (const v of pool.imap(function* (x: number): Green<number> {
      yield* sleep(0);
      return x + 1;
    }, source())) got.push(v);
    expect(got).toEqual([2, 3, 4]);
  });

  it('a GreenIterator can feed another pool (its async side)', async () => {
    const a = new GreenPool(2);
    const b = new GreenPool(2);
    const out = await run(() => drain(b.imap(function* (x: number): Green<number> { return x * 10; }, a.imap(function* (x: number): Green<number> { return x + 1; }, [1, 2, 3]))));
    expect(out).toEqual([20, 30, 40]);
  });
});

describe('spawnN where eventlet has it', () => {
  it('GreenPool.spawnN runs a job without returning it', async () => {
    const pool = new GreenPool(1);
    const seen: number[] = [];
    await run(function* () {
      const r = yield* pool.spawnN(function* (x: number) { seen.push(x); }, 7);
      expect(r).toBeUndefined();
      yield* pool.waitAll();
    });
    expect(seen).toEqual([7]);
  });
});
