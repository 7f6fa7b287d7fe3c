// Event (lib/sync/event.ts)
import { describe, expect, it } from 'vitest';
import { Event, TimeoutError, getHub, sleep, spawn } from '../lib';
import type { Green } from '../lib';
import { run } from './helpers/green';

describe('Event', () => {
  it('wakes every waiter with the value, in the order they waited, and later waiters at once', async () => {
    const ev = new Event<string>();
    const order: string[] = [];
    const waiters = [1, 2, 3].map((i) =>
      spawn(function* () {
        order.push(`${i}:${yield* ev.wait()}`);
      }),
    );
    await run(function* () {
      yield* sleep(1);
      expect(ev.ready()).toBe(false);
      ev.send('go');
      expect(ev.ready()).toBe(true);
    });
    await Promise.all(waiters);
    expect(order).toEqual(['1:go', '2:go', '3:go']);
    expect(await run(function* () { return yield* ev.wait(); })).toBe('go');
  });

  it('refuses a second send', () => {
    const ev = new Event<number>();
    ev.send(1);
    expect(() => ev.send(2)).toThrow(/already sent/);
    expect(() => ev.sendError(new Error('x'))).toThrow(/already sent/);
  });

  it('sendError makes every wait throw', async () => {
    const ev = new Event();
    const err = new Error('failed');
    const gt = spawn(function* () {
      yield* ev.wait();
    });
    const seen = Promise.resolve(gt).catch((e: unknown) => e); // observed from the start
    await run(function* () {
      yield* sleep(0);
      ev.sendError(err);
    });
    expect(await seen).toBe(err);
  });

  it('times out a wait with TimeoutError; a killed waiter leaves the queue', async () => {
    const ev = new Event();
    const r = await run(function* (): Green<boolean> {
      try {
        yield* ev.wait({ timeoutMs: 5 });
        return false;
      } catch (e) {
        return e instanceof TimeoutError;
      }
    });
    expect(r).toBe(true);
    const gt = spawn(function* () {
      yield* ev.wait();
    });
    await new Promise((res) => setTimeout(res, 5));
    gt.kill();
    ev.send();
    expect(getHub().stats().timers).toBe(0);
  });
});
