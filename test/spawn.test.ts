// spawn, spawnAfter, current (lib/spawn.ts)
import { describe, expect, it } from 'vitest';
import { GreenletExit, current, sleep, spawn, spawnAfter } from '../lib';
import type { Green } from '../lib';
import { run } from './helpers/green';

describe('spawn', () => {
  it('returns at once; the body starts on a later turn', async () => {
    let started = false;
    const gt = spawn(function* () {
      started = true;
    });
    expect(started).toBe(false);
    expect(gt.dead).toBe(false);
    await gt;
    expect(started).toBe(true);
    expect(gt.dead).toBe(true);
  });

  it('starts bodies in spawn order within a priority, high before normal', async () => {
    const order: string[] = [];
    const gts = [
      spawn(function* () { order.push('n1'); }),
      spawn({ priority: 'high' }, function* () { order.push('h1'); }),
      spawn(function* () { order.push('n2'); }),
      spawn({ priority: 'high' }, function* () { order.push('h2'); }),
      spawn(function* () { order.push('n3'); }),
    ];
    await Promise.all(gts);
    expect(order).toEqual(['h1', 'h2', 'n1', 'n2', 'n3']);
  });

  it('passes arguments and returns the result', async () => {
    function* add(a: number, b: number): Green<number> {
      yield* sleep(0);
      return a + b;
    }
    expect(await spawn(add, 2, 3)).toBe(5);
  });

  it('accepts a function that returns a generator', async () => {
    function* gen(x: number): Green<number> {
      yield* sleep(0);
      return x * 2;
    }
    const gt = spawn(() => gen(21));
    expect(await gt).toBe(42);
  });

  it('names a greenthread after its function, or as asked', async () => {
    function* worker(): Green<void> {}
    const a = spawn(worker);
    const b = spawn({ name: 'custom' }, worker);
    const c = spawn(() => worker());
    expect(a.name).toBe('worker');
    expect(b.name).toBe('custom');
    expect(c.name).toBe(`greenthread-${c.id}`);
    expect(b.id).toBe(a.id + 1);
    await Promise.all([a, b, c]);
  });

  it('rejects a non-function or an async function with a TypeError', () => {
    expect(() => spawn(42 as never)).toThrow(TypeError);
    expect(() => spawn(null as never)).toThrow(/generator function/);
    expect(() => spawn((async () => 1) as never)).toThrow(/cannot run an async function/);
    expect(() => spawn((async function* () {}) as never)).toThrow(/async function/);
    expect(() => spawn({ priority: 'urgent' } as never, function* () {})).toThrow(/priority/);
    expect(() => spawn({ name: 7 } as never, function* () {})).toThrow(/name/);
  });

  it('fails the greenthread (not the caller) when the function returns no generator', async () => {
    const gt = spawn((() => 5) as never);
    await expect(Promise.resolve(gt)).rejects.toThrow(/must return a generator/);
  });
});

describe('spawnAfter', () => {
  it('starts the body no earlier than ms later', async () => {
    const t0 = performance.now();
    let startedAt = 0;
    await spawnAfter(30, function* () {
      startedAt = performance.now();
    });
    expect(startedAt - t0).toBeGreaterThanOrEqual(30);
  });

  it('never runs a body cancelled before its start; waiters get GreenletExit', async () => {
    let ran = false;
    const gt = spawnAfter(20, function* () {
      ran = true;
    });
    expect(gt.cancel()).toBe(true);
    await expect(Promise.resolve(gt)).rejects.toBeInstanceOf(GreenletExit);
    await new Promise((r) => setTimeout(r, 40));
    expect(ran).toBe(false);
  });

  it('rejects a bad delay', () => {
    expect(() => spawnAfter(-1, function* () {})).toThrow(RangeError);
    expect(() => spawnAfter('5' as never, function* () {})).toThrow(TypeError);
  });
});

describe('current', () => {
  it('is undefined outside a greenthread and the running one inside', async () => {
    expect(current()).toBeUndefined();
    let seen: unknown;
    const gt = spawn(function* () {
      seen = current();
    });
    await gt;
    expect(seen).toBe(gt);
  });

  it('follows switches between greenthreads', async () => {
    const seen: number[] = [];
    const body = function* (): Green<void> {
      for (let i = 0; i < 3; i++) {
        seen.push(current()!.id);
        yield* sleep(0);
      }
    };
    const a = spawn(body);
    const b = spawn(body);
    await Promise.all([a, b]);
    expect(seen).toEqual([a.id, b.id, a.id, b.id, a.id, b.id]);
    await run(function* () {});
  });
});
