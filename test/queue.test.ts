// Queue, LifoQueue, PriorityQueue (lib/sync/queue.ts)
import { describe, expect, it } from 'vitest';
import { LifoQueue, PriorityQueue, Queue, TimeoutError, sleep, spawn } from '../lib';
import type { Green } from '../lib';
import { run } from './helpers/green';

describe('Queue', () => {
  it('resumes 20 getters in FIFO order', async () => {
    const q = new Queue<number>();
    const order: string[] = [];
    const getters = Array.from({ length: 20 }, (_, i) =>
      spawn(function* () {
        order.push(`${i}<-${yield* q.get()}`);
      }),
    );
    await run(function* () {
      yield* sleep(1);
      for (let k = 0; k < 20; k++) yield* q.put(k);
    });
    await Promise.all(getters);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => `${i}<-${i}`));
  });

  it('is FIFO, unbounded by default, and reports size/full/empty', async () => {
    const q = new Queue<string>();
    expect(q.empty).toBe(true);
    for (const x of ['a', 'b', 'c']) expect(q.tryPut(x)).toBe(true);
    expect(q.size).toBe(3);
    expect(q.full).toBe(false);
    expect([q.tryGet(), q.tryGet(), q.tryGet(), q.tryGet()]).toEqual(['a', 'b', 'c', undefined]);
  });

  it('a bounded put waits while full, and the freed space goes to the waiting putter first', async () => {
    const q = new Queue<number>(2);
    const log: string[] = [];
    await run(function* () {
      yield* q.put(1);
      yield* q.put(2);
      expect(q.full).toBe(true);
      expect(q.tryPut(99)).toBe(false);
      const putter = spawn(function* () {
        yield* q.put(3);
        log.push('put 3 returned');
      });
      yield* sleep(0);
      log.push(`got ${yield* q.get()}`);
      expect(q.tryPut(4)).toBe(false); // the space went to the waiting putter: no barging
      yield* putter.wait();
      log.push(`then ${yield* q.get()} ${yield* q.get()}`);
    });
    expect(log).toEqual(['got 1', 'put 3 returned', 'then 2 3']);
  });

  it('Queue(0) is a rendezvous: put returns once a getter took the item', async () => {
    const q = new Queue<string>(0);
    const log: string[] = [];
    await run(function* () {
      expect(q.tryPut('x')).toBe(false); // nobody waits
      const putter = spawn(function* () {
        yield* q.put('hello');
        log.push('put returned');
      });
      yield* sleep(5);
      log.push('getting');
      log.push(`got ${yield* q.get()}`);
      yield* putter.wait();
    });
    expect(log).toEqual(['getting', 'got hello', 'put returned']);
  });

  it('get and put time out with TimeoutError', async () => {
    const q = new Queue<number>(1);
    const r = await run(function* (): Green<string[]> {
      const out: string[] = [];
      try {
        yield* q.get({ timeoutMs: 5 });
      } catch (e) {
        out.push(e instanceof TimeoutError ? 'get timed out' : String(e));
      }
      yield* q.put(1);
      try {
        yield* q.put(2, { timeoutMs: 5 });
      } catch (e) {
        out.push(e instanceof TimeoutError ? 'put timed out' : String(e));
      }
      out.push(`size ${q.size}`);
      return out;
    });
    expect(r).toEqual(['get timed out', 'put timed out', 'size 1']);
  });

  it('a getter killed after it was handed an item gives it back: nothing is lost', async () => {
    const q = new Queue<string>();
    await run(function* () {
      const doomed = spawn(function* () {
        yield* q.get();
        throw new Error('must not get here');
      });
      yield* sleep(0);
      q.tryPut('precious'); // handed to `doomed`, which has not resumed
      q.tryPut('second');
      doomed.kill();
      expect(q.size).toBe(2);
      expect(yield* q.get()).toBe('precious');
      expect(yield* q.get()).toBe('second');
    });
  });

  it('a killed waiting getter leaves the queue; its contents stay intact', async () => {
    const q = new Queue<number>();
    const gt = spawn(function* () {
      yield* q.get();
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(q.getters).toBe(1);
    gt.kill();
    expect(q.getters).toBe(0);
    q.tryPut(7);
    expect(q.size).toBe(1);
  });

  it('join waits until every item is marked done', async () => {
    const q = new Queue<number>();
    const log: string[] = [];
    await run(function* () {
      for (let i = 0; i < 3; i++) yield* q.put(i);
      spawn(function* () {
        for (let i = 0; i < 3; i++) {
          yield* q.get();
          yield* sleep(1);
          log.push(`done ${i}`);
          q.taskDone();
        }
      });
      yield* q.join();
      log.push('joined');
    });
    expect(log).toEqual(['done 0', 'done 1', 'done 2', 'joined']);
    expect(() => q.taskDone()).toThrow(/more times/);
  });

  it('rejects bad sizes', () => {
    expect(() => new Queue(-1)).toThrow(RangeError);
    expect(() => new Queue(1.5)).toThrow(RangeError);
    expect(() => new PriorityQueue({ compare: 5 as never })).toThrow(TypeError);
  });
});

describe('LifoQueue and PriorityQueue', () => {
  it('LifoQueue returns the newest item first', () => {
    const q = new LifoQueue<number>();
    [1, 2, 3].forEach((x) => q.tryPut(x));
    expect([q.tryGet(), q.tryGet(), q.tryGet()]).toEqual([3, 2, 1]);
  });

  it('PriorityQueue returns the smallest by compare, equal items in insertion order', () => {
    const q = new PriorityQueue<{ p: number; name: string }>({ compare: (a, b) => a.p - b.p });
    for (const [p, name] of [[3, 'c'], [1, 'a1'], [2, 'b'], [1, 'a2'], [0, 'z']] as const) q.tryPut({ p, name });
    const out: string[] = [];
    for (let x = q.tryGet(); x !== undefined; x = q.tryGet()) out.push(x.name);
    expect(out).toEqual(['z', 'a1', 'a2', 'b', 'c']);
    const d = new PriorityQueue<number>();
    [5, 1, 3].forEach((x) => d.tryPut(x));
    expect(d.tryGet()).toBe(1);
  });
});
