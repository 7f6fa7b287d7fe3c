// eventlet parity of the coordination primitives: CappedSemaphore (lib/sync/semaphore.ts),
// Event.reset (lib/sync/event.ts), Queue.resize / putters / unfinishedTasks (lib/sync/queue.ts)
import { describe, expect, it } from 'vitest';
import { Event, LifoQueue, Queue, sleep, spawn } from '../lib';
import { CappedSemaphore } from '../lib/sync/semaphore';
import { catching, run } from './helpers/green';

describe('CappedSemaphore', () => {
  it('release() with room releases at the call, so a forgotten yield* loses nothing; at limit it waits only when run', async () => {
    const r = await run(function* () {
      const sem = new CappedSemaphore(0, 1);
      sem.release(); // no yield*: there is room, so it counts
      const afterForgotten = sem.count;
      const atLimit = sem.release({ timeoutMs: 0 }); // no room now: nothing happens until run
      const stillOne = sem.count;
      const ran = yield* atLimit; // run with timeoutMs 0: false, count unchanged
      return { afterForgotten, stillOne, ran, count: sem.count };
    });
    expect(r).toEqual({ afterForgotten: 1, stillOne: 1, ran: false, count: 1 });
  });

  it('acquire waits at 0; release waits at limit; both FIFO, handed over directly', async () => {
    const sem = new CappedSemaphore(1, 2);
    const order: string[] = [];
    await run(function* () {
      expect(yield* sem.release()).toBe(true); // 2: at the limit
      const releasers = [1, 2].map((i) =>
        spawn(function* () {
          yield* sem.release();
          order.push(`r${i}`);
        }),
      );
      yield* sleep(0);
      expect(sem.releasing).toBe(2);
      expect(sem.balance).toBe(4);
      expect(sem.tryRelease()).toBe(false);
      yield* sem.acquire(); // lets r1's release complete
      yield* sem.acquire(); // and r2's
      for (const r of releasers) yield* r.wait();
      expect(sem.count).toBe(2);
      yield* sem.acquire();
      yield* sem.acquire();
      const acquirers = [1, 2].map((i) =>
        spawn(function* () {
          yield* sem.acquire();
          order.push(`a${i}`);
        }),
      );
      yield* sleep(0);
      expect(sem.waiting).toBe(2);
      expect(sem.balance).toBe(-2);
      expect(sem.tryAcquire()).toBe(false);
      yield* sem.release();
      yield* sem.release();
      for (const a of acquirers) yield* a.wait();
    });
    expect(order).toEqual(['r1', 'r2', 'a1', 'a2']);
    expect(sem.count).toBe(0);
  });

  it('timeouts return false and leave the count alone', async () => {
    const sem = new CappedSemaphore(0, 1);
    await run(function* () {
      expect(yield* sem.acquire({ timeoutMs: 5 })).toBe(false);
      expect(yield* sem.acquire({ timeoutMs: 0 })).toBe(false);
      expect(yield* sem.release({ timeoutMs: 0 })).toBe(true);
      expect(yield* sem.release({ timeoutMs: 5 })).toBe(false);
    });
    expect(sem.count).toBe(1);
    expect(sem.waiting + sem.releasing).toBe(0);
  });

  it('a killed acquirer handed its turn gives it back, and the count never leaves [0, limit]', async () => {
    const sem = new CappedSemaphore(0, 1);
    await run(function* () {
      const doomed = spawn(() => sem.acquire());
      yield* sleep(0);
      expect(sem.tryRelease()).toBe(true); // handed to doomed (count 0 again)
      // The room the handed acquire made is not usable until doomed resumes: no release now.
      expect(sem.tryRelease()).toBe(false);
      doomed.kill(); // before it resumed: its acquire did not happen
      expect(sem.count).toBe(1);
      const releaser = spawn(() => sem.release());
      yield* sleep(0);
      expect(sem.releasing).toBe(1); // waiting: the count is at limit
      expect(yield* sem.acquire()).toBe(true); // lets the releaser in
      expect(yield* releaser.wait()).toBe(true);
      expect(sem.count).toBe(1);
    });
  });

  it('a release waiting behind a handed acquire goes in once that acquirer resumes', async () => {
    const sem = new CappedSemaphore(0, 1);
    await run(function* () {
      const acquirer = spawn(() => sem.acquire());
      yield* sleep(0);
      const releasers = [spawn(() => sem.release()), spawn(() => sem.release())];
      yield* releasers[0].wait(); // hands the count to acquirer
      expect(yield* acquirer.wait()).toBe(true);
      expect(yield* releasers[1].wait()).toBe(true); // room once acquirer's acquire was final
      expect(sem.count).toBe(1);
    });
  });

  it('a killed releaser handed its turn gives it back', async () => {
    const sem = new CappedSemaphore(1, 1);
    await run(function* () {
      const doomed = spawn(() => sem.release());
      yield* sleep(0);
      expect(sem.tryAcquire()).toBe(true); // doomed's release handed (count back to 1)
      doomed.kill();
      expect(sem.count).toBe(0);
      expect(sem.tryAcquire()).toBe(false);
    });
  });

  it('rejects bad arguments', async () => {
    expect(() => new CappedSemaphore(2, 1)).toThrow(RangeError);
    expect(() => new CappedSemaphore(0, 0)).toThrow(RangeError);
    expect(() => new CappedSemaphore(-1, 3)).toThrow(RangeError);
    expect(() => new CappedSemaphore('1' as never, 3)).toThrow(TypeError);
    const sem = new CappedSemaphore(0, 1);
    expect(() => sem.release()).toThrow(/inside a greenthread/);
    await run(function* () {
      expect(() => sem.acquire({ timeoutMs: -1 })).toThrow(RangeError);
      sem.release(); // forgotten yield*: with room, it released at the call all the same
      expect(sem.count).toBe(1);
    });
  });
});

describe('Event.reset', () => {
  it('makes a sent event fresh: wait() waits for the next send; earlier waiters keep the old value', async () => {
    const ev = new Event<number>();
    const got: string[] = [];
    await run(function* () {
      const early = spawn(function* () {
        got.push(`early ${yield* ev.wait()}`);
      });
      yield* sleep(0);
      ev.send(1);
      ev.reset(); // before early resumed
      expect(ev.ready()).toBe(false);
      const late = spawn(function* () {
        got.push(`late ${yield* ev.wait()}`);
      });
      yield* early.wait();
      yield* sleep(1);
      expect(late.dead).toBe(false);
      ev.send(2);
      yield* late.wait();
      ev.reset();
      ev.sendError(new Error('third'));
      expect(yield* catching(ev.wait())).toMatchObject({ message: 'third' });
      ev.reset();
      expect(yield* catching(ev.wait({ timeoutMs: 1 }))).toMatchObject({ code: 'ETIMEDOUT' });
    });
    expect(got).toEqual(['early 1', 'late 2']);
  });

  it('reset of an event that was not sent is an error, as in eventlet', () => {
    const ev = new Event();
    expect(() => ev.reset()).toThrow(/not sent/);
    ev.send();
    ev.reset();
    expect(() => ev.reset()).toThrow(/not sent/);
  });
});

describe('Queue: resize, putters, unfinishedTasks', () => {
  it('resize up lets waiting putters in, in FIFO order; putters counts them', async () => {
    const q = new Queue<number>(1);
    await run(function* () {
      yield* q.put(0);
      const putters = [1, 2, 3].map((i) => spawn(() => q.put(i)));
      yield* sleep(0);
      expect(q.putters).toBe(3);
      q.resize(3); // two fit now
      expect(q.putters).toBe(1);
      expect(q.size).toBe(3);
      yield* putters[0].wait();
      yield* putters[1].wait();
      expect(putters[2].dead).toBe(false);
      q.resize(undefined); // unbounded
      yield* putters[2].wait();
      expect(q.maxsize).toBe(Infinity);
      expect([q.tryGet(), q.tryGet(), q.tryGet(), q.tryGet()]).toEqual([0, 1, 2, 3]);
    });
  });

  it('resize down drops nothing: puts wait until the size is under it', async () => {
    const q = new LifoQueue<string>(4);
    await run(function* () {
      for (const x of ['a', 'b', 'c']) yield* q.put(x);
      q.resize(1);
      expect(q.size).toBe(3);
      expect(q.full).toBe(true);
      expect(q.tryPut('d')).toBe(false);
      const putter = spawn(() => q.put('d'));
      yield* sleep(0);
      q.tryGet();
      q.tryGet();
      yield* sleep(0);
      expect(putter.dead).toBe(false); // size 1: still full
      expect(q.tryGet()).toBe('a');
      yield* putter.wait();
      expect(q.tryGet()).toBe('d');
    });
  });

  it('a rendezvous queue cannot be resized, nor a buffered one made a rendezvous one', () => {
    expect(() => new Queue(0).resize(5)).toThrow(RangeError);
    expect(() => new Queue(5).resize(0)).toThrow(RangeError);
    expect(() => new Queue(5).resize(-1)).toThrow(RangeError);
    expect(() => new Queue(5).resize('2' as never)).toThrow(TypeError);
  });

  it('putters counts rendezvous putters too; unfinishedTasks follows put and taskDone', async () => {
    const ch = new Queue<number>(0);
    await run(function* () {
      const p = spawn(() => ch.put(1));
      yield* sleep(0);
      expect(ch.putters).toBe(1);
      expect(ch.unfinishedTasks).toBe(0);
      expect(yield* ch.get()).toBe(1);
      yield* p.wait();
      expect(ch.putters).toBe(0);
      expect(ch.unfinishedTasks).toBe(1);
      ch.taskDone();
      expect(ch.unfinishedTasks).toBe(0);
    });
    const q = new Queue<number>();
    q.tryPut(1);
    q.tryPut(2);
    expect(q.unfinishedTasks).toBe(2);
    q.tryGet();
    q.taskDone();
    expect(q.unfinishedTasks).toBe(1);
  });
});

