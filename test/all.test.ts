// all and race (lib/all.ts)
import { describe, expect, it } from 'vitest';
import { GreenletExit, all, current, getHub, race, sleep, spawn } from '../lib';
import type { Green } from '../lib';
import { run } from './helpers/green';

function* after<T>(ms: number, value: T): Green<T> {
  yield* sleep(ms);
  return value;
}

function* failAfter(ms: number, msg: string): Green<never> {
  yield* sleep(ms);
  throw new Error(msg);
}

describe('all', () => {
  it('returns every result in order, whatever order they finish in', async () => {
    const r = await run(function* () {
      return yield* all([after(15, 'slow'), after(1, 'fast'), after(5, 'mid')]);
    });
    expect(r).toEqual(['slow', 'fast', 'mid']);
  });

  it('returns [] for no operations', async () => {
    expect(await run(function* () { return yield* all([]); })).toEqual([]);
  });

  it('throws the first error and kills the rest', async () => {
    let finished = false;
    const err = await run(function* (): Green<unknown> {
      try {
        yield* all([failAfter(2, 'first'), (function* () {
          yield* sleep(50);
          finished = true;
        })(), failAfter(10, 'second')]);
      } catch (e) {
        return e;
      }
      return undefined;
    });
    expect((err as Error).message).toBe('first');
    expect(getHub().stats().timers).toBe(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(finished).toBe(false);
  });

  it('kills the children when the caller is killed', async () => {
    let cleaned = 0;
    const child = function* (): Green<void> {
      try {
        yield* sleep(10_000);
      } finally {
        cleaned++;
      }
    };
    const owner = spawn(function* () {
      yield* all([child(), child()]);
    });
    await new Promise((r) => setTimeout(r, 10));
    owner.kill();
    expect(cleaned).toBe(2);
    await expect(Promise.resolve(owner)).rejects.toBeInstanceOf(GreenletExit);
  });
});

describe('race', () => {
  it('returns the first result and kills the rest', async () => {
    let loserCleaned = false;
    const r = await run(function* () {
      return yield* race([
        (function* () {
          try {
            yield* sleep(10_000);
          } finally {
            loserCleaned = true;
          }
        })(),
        after(3, 'winner'),
      ]);
    });
    expect(r).toBe('winner');
    expect(loserCleaned).toBe(true);
  });

  it('throws the first error', async () => {
    const msg = await run(function* (): Green<string> {
      try {
        yield* race([failAfter(1, 'lost'), after(20, 'late')]);
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(msg).toBe('lost');
  });

  it('fails (does not hang) when every operation is killed', async () => {
    function* killedSoon(): Green<void> {
      yield* sleep(1);
      current()!.kill(); // ends this child with GreenletExit, as a kill from outside would
    }
    const msg = await run(function* (): Green<string> {
      try {
        yield* race([killedSoon(), killedSoon()]);
        return 'returned';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(msg).toBe('race(): every operation was killed');
  });

  it('rejects an empty list and non-operations', async () => {
    await run(function* () {
      let e1: unknown;
      try {
        yield* race([]);
      } catch (e) {
        e1 = e;
      }
      expect(e1).toBeInstanceOf(TypeError);
      let e2: unknown;
      try {
        yield* all([5 as never]);
      } catch (e) {
        e2 = e;
      }
      expect(String(e2)).toMatch(/must be an operation \(an iterable such as a generator or a GreenThread\), got /);
    });
  });
});
