// Queue(0), the rendezvous channel (lib/sync/queue.ts): a put returns only once a getter has
// resumed with the item; an item handed to a getter that dies first is neither lost nor left
// in the (zero-size) queue. Ported from eventlet's queue tests.
//
// How the tests catch "handed, not yet resumed": a putter P and a killer K spawned together run
// one after the other on the next turn; P hands its item to the waiting getter, which is queued
// behind K, so K acts while the getter holds the item and has not resumed.
import { describe, expect, it } from 'vitest';
import { Queue, TimeoutError, getHub, sleep, spawn } from '../lib';
import type { Green, GreenThread, Operation } from '../lib';
import { run } from './helpers/green';

/** A getter that logs what it gets (or the error it ends with) under its name. */
function getter(q: Queue<string>, name: string, log: string[], timeoutMs?: number) {
  return spawn(function* () {
    try {
      log.push(`${name} got ${yield* q.get(timeoutMs === undefined ? undefined : { timeoutMs })}`);
    } catch (e) {
      log.push(`${name} ${(e as Error).name}`);
    }
  });
}

/** A putter that logs when its put returns, or the error it throws. */
function putter(q: Queue<string>, item: string, log: string[], timeoutMs?: number) {
  return spawn(function* () {
    try {
      yield* q.put(item, timeoutMs === undefined ? undefined : { timeoutMs });
      log.push(`put ${item} returned`);
    } catch (e) {
      log.push(`put ${item} ${(e as Error).name}`);
    }
  });
}

describe('Queue(0): a rendezvous put returns once a getter has the item', () => {
  it('put to a waiting getter returns only after the getter resumed with the item', async () => {
    const q = new Queue<string>(0);
    const log: string[] = [];
    await run(function* () {
      const g = getter(q, 'g', log);
      yield* sleep(0); // g waits in get()
      yield* q.put('x');
      log.push('put returned');
      yield* g.wait();
    });
    expect(log).toEqual(['g got x', 'put returned']);
  });

  it('a getter killed before it resumes passes the item to the next getter; put returns once that one has it', async () => {
    const q = new Queue<string>(0);
    const log: string[] = [];
    await run(function* () {
      const g1 = getter(q, 'g1', log);
      const g2 = getter(q, 'g2', log);
      yield* sleep(0);
      const p = putter(q, 'x', log);
      const k = spawn(function* () {
        expect(q.getters).toBe(1); // g1 was handed 'x' and has not resumed
        g1.kill();
      });
      yield* k.wait();
      yield* p.wait();
      yield* g2.wait();
    });
    expect(log).toEqual(['g1 GreenletExit', 'g2 got x', 'put x returned']);
  });

  it('a getter killed before it resumes, with no other getter: the putter keeps waiting with the item, none is in the queue', async () => {
    const q = new Queue<string>(0);
    const log: string[] = [];
    await run(function* () {
      const g1 = getter(q, 'g1', log);
      yield* sleep(0);
      const p = putter(q, 'x', log);
      spawn(function* () {
        g1.kill();
      });
      yield* sleep(0);
      yield* sleep(0);
      expect(p.dead).toBe(false); // still waiting, with its item
      expect(q.size).toBe(0);
      expect(q.empty).toBe(true);
      log.push(`main got ${yield* q.get()}`);
      yield* p.wait();
    });
    expect(log).toEqual(['g1 GreenletExit', 'main got x', 'put x returned']);
  });

  it('a put whose getter died and whose timeout then expires throws TimeoutError; the item is in no queue', async () => {
    const q = new Queue<string>(0);
    const log: string[] = [];
    await run(function* () {
      const g1 = getter(q, 'g1', log);
      yield* sleep(0);
      const p = putter(q, 'x', log, 20);
      spawn(function* () {
        g1.kill();
      });
      yield* p.wait();
      expect(q.size).toBe(0);
      expect(q.tryGet()).toBeUndefined();
      try {
        yield* q.get({ timeoutMs: 5 });
        log.push('got something (must not happen)');
      } catch (e) {
        log.push(e instanceof TimeoutError ? 'get timed out' : String(e));
      }
    });
    expect(log).toEqual(['g1 GreenletExit', 'put x TimeoutError', 'get timed out']);
  });

  it('a putter killed after handing its item to a getter that has not resumed withdraws it; the getter keeps its place', async () => {
    const q = new Queue<string>(0);
    const log: string[] = [];
    await run(function* () {
      const g1 = getter(q, 'g1', log);
      const g2 = getter(q, 'g2', log);
      yield* sleep(0);
      const p = putter(q, 'x', log);
      spawn(function* () {
        p.kill();
      });
      yield* sleep(0);
      yield* sleep(0);
      expect(q.getters).toBe(2); // g1 went back to waiting: 'x' was withdrawn
      expect(q.size).toBe(0);
      yield* putter(q, 'y', log).wait();
      yield* putter(q, 'z', log).wait();
      yield* g1.wait();
      yield* g2.wait();
    });
    // g1 was first in line, and still is: it gets the next item, not g2.
    expect(log).toEqual(['put x GreenletExit', 'g1 got y', 'put y returned', 'g2 got z', 'put z returned']);
  });

  it('a putter killed (or timed out) while waiting for a getter withdraws its item', async () => {
    const q = new Queue<string>(0);
    const log: string[] = [];
    await run(function* (): Green<void> {
      const p = putter(q, 'x', log);
      const p2 = putter(q, 'y', log, 5);
      yield* sleep(0);
      p.kill();
      yield* p2.wait();
      expect(q.tryGet()).toBeUndefined();
      expect(q.size).toBe(0);
    });
    expect(log).toEqual(['put x GreenletExit', 'put y TimeoutError']);
  });

  it('a getter with a timeout whose item was withdrawn waits only for the rest of its time', async () => {
    const q = new Queue<string>(0);
    const log: string[] = [];
    await run(function* () {
      const g1 = getter(q, 'g1', log, 30);
      yield* sleep(0);
      const p = putter(q, 'x', log);
      spawn(function* () {
        p.kill();
      });
      yield* g1.wait();
      expect(q.getters).toBe(0);
    });
    expect(log).toEqual(['put x GreenletExit', 'g1 TimeoutError']);
  });

  it('join counts an item once a getter has it', async () => {
    const q = new Queue<string>(0);
    const log: string[] = [];
    await run(function* () {
      const g1 = getter(q, 'g1', log);
      const g2 = spawn(function* () {
        log.push(`g2 got ${yield* q.get()}`);
        q.taskDone();
      });
      yield* sleep(0);
      const p = putter(q, 'x', log);
      spawn(function* () {
        g1.kill();
      });
      yield* p.wait();
      yield* q.join();
      log.push('joined');
      yield* g2.wait();
    });
    expect(log).toEqual(['g1 GreenletExit', 'g2 got x', 'put x returned', 'joined']);
  });

  it('tryPut hands the item to a waiting getter; if that getter dies first, the next get takes it (the queue stays empty)', async () => {
    const q = new Queue<string>(0);
    const log: string[] = [];
    await run(function* () {
      expect(q.tryPut('nobody')).toBe(false);
      const g1 = getter(q, 'g1', log);
      yield* sleep(0);
      expect(q.tryPut('x')).toBe(true);
      g1.kill();
      expect(q.size).toBe(0);
      log.push(`main got ${yield* q.get()}`);
    });
    expect(log).toEqual(['g1 GreenletExit', 'main got x']);
  });

  it('random kills and timeouts of getters and putters (seeded): a put returns only after a getter got its item, a timed-out put delivered nothing, no item is lost, duplicated or left behind', async () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n); // the high bits: the low ones cycle fast
    };
    const stats = { got: 0 };
    for (let round = 0; round < 40; round++) {
      const q = new Queue<number>(0);
      const got: number[] = [];
      const gotSet = new Set<number>();
      const putOk = new Set<number>();
      const timedOut: number[] = [];
      const early: number[] = []; // puts that returned before a getter had the item
      let nextItem = 1;
      const opts = (timeoutMs: number | undefined) => (timeoutMs === undefined ? undefined : { timeoutMs });
      /** Runs op; a TimeoutError is an outcome like any other here (the loop goes on). */
      function* timed<T>(op: Operation<T>): Green<{ value: T } | undefined> {
        try {
          return { value: yield* op };
        } catch (e) {
          if (e instanceof TimeoutError) return undefined;
          throw e;
        }
      }
      const gts = await run(function* () {
        const all: GreenThread<void>[] = [];
        for (let i = 0; i < 8; i++) {
          const timeoutMs = rand(3) === 0 ? 1 + rand(3) : undefined;
          if (rand(2) === 0) {
            all.push(spawn(function* (): Green<void> {
              for (;;) {
                const r = yield* timed(q.get(opts(timeoutMs)));
                if (r !== undefined) {
                  got.push(r.value);
                  gotSet.add(r.value);
                }
              }
            }));
          } else {
            all.push(spawn(function* (): Green<void> {
              for (;;) {
                const item = nextItem++;
                if ((yield* timed(q.put(item, opts(timeoutMs)))) === undefined) {
                  timedOut.push(item);
                } else {
                  if (!gotSet.has(item)) early.push(item);
                  putOk.add(item);
                }
                yield* sleep(0);
              }
            }));
          }
        }
        for (let step = 0; step < 12; step++) {
          const r = rand(4);
          if (r === 0) all[rand(all.length)].kill();
          else if (r === 1) yield* sleep(rand(2));
          else if (r === 2 && q.tryPut(nextItem)) putOk.add(nextItem++);
          else yield* sleep(0);
        }
        for (const gt of all) gt.kill();
        for (let item = q.tryGet(); item !== undefined; item = q.tryGet()) got.push(item);
        return all;
      });
      expect(gts.every((gt) => gt.dead)).toBe(true);
      expect(early).toEqual([]);
      expect(timedOut.filter((item) => gotSet.has(item))).toEqual([]);
      expect(new Set(got).size).toBe(got.length); // none got twice
      for (const item of putOk) expect(got).toContain(item); // none delivered and lost
      expect(q.size).toBe(0);
      expect(q.getters).toBe(0);
      stats.got += got.length;
    }
    expect(stats.got).toBeGreaterThan(100); // the rounds did exchange items
    await new Promise((r) => setTimeout(r, 10));
    expect(getHub().stats().timers).toBe(0);
  });
});
