// waitFor (lib/wait-for.ts)
import { describe, expect, it } from 'vitest';
import { sleep, spawn, waitFor } from '../lib';
import type { Green } from '../lib';
import { run } from './helpers/green';

describe('waitFor', () => {
  it('resumes with the value of a promise, while the hub keeps running', async () => {
    const ticks: number[] = [];
    const ticker = spawn(function* () {
      for (let i = 0; i < 3; i++) {
        ticks.push(i);
        yield* sleep(1);
      }
    });
    const v = await run(function* (): Green<string> {
      return yield* waitFor(new Promise<string>((r) => setTimeout(() => r('late value'), 20)));
    });
    expect(v).toBe('late value');
    await ticker;
    expect(ticks).toEqual([0, 1, 2]);
  });

  it('throws the rejection at the call site', async () => {
    const msg = await run(function* (): Green<string> {
      try {
        yield* waitFor(Promise.reject(new Error('rejected')));
        return 'no throw';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(msg).toBe('rejected');
  });

  it('accepts a thenable or a plain value', async () => {
    const v = await run(function* (): Green<number[]> {
      const a = yield* waitFor({ then: (ok: (v: number) => void) => ok(1) } as PromiseLike<number>);
      const b = yield* waitFor(2);
      return [a, b];
    });
    expect(v).toEqual([1, 2]);
  });

  it('throws outside a greenthread', () => {
    expect(() => waitFor(Promise.resolve(1))).toThrow(/inside a greenthread/);
  });
});
