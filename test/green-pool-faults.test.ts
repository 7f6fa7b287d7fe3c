// GreenPool, imap and GreenPile under the conditions eventlet's own tests put them in
// (lib/sync/green-pool.ts, lib/sync/green-pile.ts): spawning into a full pool from one of its
// own greenthreads, waitAll() from inside the pool, failed jobs in the middle of imap, and a
// pile whose spawn still waits for a slot.
//
// A test that would hang on a deadlock runs under withTimeout, so it fails with a
// TimeoutError instead.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Event, GreenPile, GreenPool, getHub, sleep, spawn, withTimeout } from '../lib';
import type { Green, GreenIterator, GreenThread } from '../lib';
import { run } from './helpers/green';

const reported: unknown[] = [];
beforeEach(() => {
  reported.length = 0;
  getHub().onError((err) => reported.push(err));
});
afterEach(() => {
  getHub().onError(null);
});

/** Collects next() results until done; a thrown error is logged as `!message` and iteration goes on. */
function* drain(it: GreenIterator<unknown>): Green<string[]> {
  const out: string[] = [];
  for (;;) {
    let r: IteratorResult<unknown>;
    try {
      r = yield* it.next();
    } catch (e) {
      out.push(`!${(e as Error).message}`);
      continue;
    }
    if (r.done) return out;
    out.push(String(r.value));
  }
}

describe('GreenPool: spawning from one of its own greenthreads while it is full', () => {
  it('spawn runs the job on the caller\'s slot instead of deadlocking, and returns its finished GreenThread (eventlet test_reentrant)', async () => {
    const pool = new GreenPool(1);
    const r = await run(function* () {
      const outer = yield* pool.spawn(function* () {
        const inner = yield* pool.spawn(function* (a: string): Green<string> {
          yield* sleep(0);
          return a;
        }, 'reenter');
        expect(inner.dead).toBe(true);
        return yield* inner.wait();
      });
      return yield* withTimeout(2000, outer.wait());
    });
    expect(r).toBe('reenter');
    expect(pool.running()).toBe(0);
    expect(pool.free()).toBe(1);
  });

  it('spawnN runs the job before returning; the caller goes on (eventlet test_reentrant, spawn_n)', async () => {
    const pool = new GreenPool(1);
    const log: string[] = [];
    const done = new Event<string>();
    await run(function* () {
      yield* pool.spawnN(function* () {
        yield* pool.spawnN(function* (a: string) {
          yield* sleep(0);
          log.push(a);
        }, 'reenter');
        log.push('spawnN returned');
        done.send('done');
      });
      expect(yield* withTimeout(2000, done.wait())).toBe('done');
      yield* pool.waitAll();
    });
    expect(log).toEqual(['reenter', 'spawnN returned']);
    expect(reported).toEqual([]);
  });

  it('an inline job\'s error is its GreenThread\'s, not the caller\'s; an inline spawnN error goes to the hub\'s error handler', async () => {
    const pool = new GreenPool(1);
    const log: string[] = [];
    await run(function* () {
      const outer = yield* pool.spawn(function* () {
        const gt = yield* pool.spawn(function* (): Green<void> {
          yield* sleep(0);
          throw new Error('inline spawn failed');
        });
        log.push(`caller goes on; job dead: ${gt.dead}`);
        try {
          yield* gt.wait();
        } catch (e) {
          log.push(`wait threw ${(e as Error).message}`);
        }
        yield* pool.spawnN(function* (): Green<void> {
          throw new Error('inline spawnN failed');
        });
        log.push('caller goes on after spawnN');
      });
      yield* withTimeout(2000, outer.wait());
      yield* sleep(0); // unobserved errors are reported at the end of a turn
    });
    expect(log).toEqual(['caller goes on; job dead: true', 'wait threw inline spawn failed', 'caller goes on after spawnN']);
    expect(reported.map((e) => (e as Error).message)).toEqual(['inline spawnN failed']);
  });

  it('killing the caller kills its inline job with it', async () => {
    const pool = new GreenPool(1);
    const log: string[] = [];
    await run(function* () {
      const outer = yield* pool.spawn(function* () {
        yield* pool.spawn(function* () {
          try {
            yield* sleep(10_000);
          } finally {
            log.push('inline job finally');
          }
        });
        log.push('caller resumed (must not happen)');
      });
      yield* sleep(1);
      outer.kill();
      log.push(`outer dead: ${outer.dead}`);
      yield* withTimeout(2000, pool.waitAll());
    });
    expect(log).toEqual(['inline job finally', 'outer dead: true']);
    expect(pool.running()).toBe(0);
    expect(reported).toEqual([]);
  });

  it('a greenthread outside the pool still waits for a slot (only the pool\'s own run inline)', async () => {
    const pool = new GreenPool(1);
    const log: string[] = [];
    await run(function* () {
      const gate = new Event();
      yield* pool.spawn(function* () {
        yield* gate.wait();
        log.push('first ends');
      });
      const outsider = spawn(function* () {
        yield* pool.spawnN(function* () {
          log.push('second runs');
        });
      });
      yield* sleep(1);
      expect(pool.waiting()).toBe(1);
      gate.send(undefined);
      yield* outsider.wait();
      yield* pool.waitAll();
    });
    expect(log).toEqual(['first ends', 'second runs']);
  });
});

describe('GreenPool.waitAll() from inside the pool', () => {
  it('throws at once, saying why and what to do, instead of waiting for itself for ever (eventlet test_recursive_waitall)', async () => {
    const pool = new GreenPool(2);
    const msg = await run(function* (): Green<string> {
      const gt = yield* pool.spawn(function* () {
        yield* pool.waitAll();
      });
      try {
        yield* withTimeout(2000, gt.wait());
        return 'returned';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(msg).toMatch(/own greenthreads/);
    expect(msg).toMatch(/outside the pool/);
  });
});

describe('imap and imapUnordered with failed jobs', () => {
  it('imap throws each failed job\'s error at its place and goes on with the later results', async () => {
    const pool = new GreenPool(2);
    const out = await run(function* () {
      const it = pool.imap(function* (x: number): Green<number> {
        yield* sleep(0);
        if (x % 3 === 2) throw new Error(`bad ${x}`);
        return x * 10;
      }, [0, 1, 2, 3, 4, 5, 6]);
      return yield* drain(it);
    });
    expect(out).toEqual(['0', '10', '!bad 2', '30', '40', '!bad 5', '60']);
    expect(reported).toEqual([]);
  });

  it('imapUnordered throws a failed job\'s error at the place it finished and goes on', async () => {
    const pool = new GreenPool(3);
    const out = await run(function* () {
      const gates = [new Event(), new Event(), new Event()];
      const it = pool.imapUnordered(function* (i: number): Green<string> {
        yield* gates[i].wait();
        if (i === 1) throw new Error('job 1 failed');
        return `job ${i}`;
      }, [0, 1, 2]);
      const got: string[] = [];
      const step = function* (): Green<void> {
        try {
          const r = yield* it.next();
          got.push(r.done ? 'done' : r.value);
        } catch (e) {
          got.push(`!${(e as Error).message}`);
        }
      };
      // Finishing order: 2, 1 (fails), 0.
      for (const i of [2, 1, 0]) {
        const taker = spawn(step);
        yield* sleep(1);
        gates[i].send(undefined);
        yield* taker.wait();
      }
      yield* step();
      return got;
    });
    expect(out).toEqual(['job 2', '!job 1 failed', 'job 0', 'done']);
    expect(reported).toEqual([]);
  });
});

describe('GreenPile.next() while a spawn waits for a slot', () => {
  it('waits for the job of a spawn blocked on a full pool (pool full of other work)', async () => {
    const pool = new GreenPool(1);
    const pile = new GreenPile<string>(pool);
    const r = await run(function* () {
      const gate = new Event();
      yield* pool.spawn(function* () {
        yield* gate.wait();
      });
      const spawner = spawn(function* () {
        yield* pile.spawn(function* (): Green<string> {
          return 'late job';
        });
      });
      yield* sleep(0);
      expect(pool.waiting()).toBe(1); // the pile's spawn waits for a slot
      spawn(function* () {
        yield* sleep(1);
        gate.send(undefined);
      });
      const out = yield* withTimeout(2000, drain(pile));
      yield* spawner.wait();
      return out;
    });
    expect(r).toEqual(['late job']);
  });

  it('keeps spawn order across a spawn that waited for its slot', async () => {
    const pool = new GreenPool(1);
    const pile = new GreenPile<string>(pool);
    const r = await run(function* () {
      yield* pile.spawn(function* (): Green<string> {
        yield* sleep(2);
        return 'a';
      });
      const spawners: GreenThread<void>[] = [];
      for (const v of ['b', 'c']) {
        spawners.push(
          spawn(function* () {
            yield* pile.spawn(function* (): Green<string> {
              return v;
            });
          }),
        );
        yield* sleep(0);
      }
      const out = yield* withTimeout(2000, drain(pile));
      for (const s of spawners) yield* s.wait();
      return out;
    });
    expect(r).toEqual(['a', 'b', 'c']);
  });

  it('a spawner killed while it waits for a slot leaves no hole: next() skips its place', async () => {
    const pool = new GreenPool(1);
    const pile = new GreenPile<string>(pool);
    const r = await run(function* () {
      yield* pile.spawn(function* (): Green<string> {
        yield* sleep(2);
        return 'a';
      });
      const doomed = spawn(function* () {
        yield* pile.spawn(function* (): Green<string> {
          return 'never';
        });
      });
      const later = spawn(function* () {
        yield* pile.spawn(function* (): Green<string> {
          return 'c';
        });
      });
      yield* sleep(0);
      doomed.kill();
      const out = yield* withTimeout(2000, drain(pile));
      yield* later.wait();
      return out;
    });
    expect(r).toEqual(['a', 'c']);
  });

  it('close() ends a next() that waits for a spawn still in line', async () => {
    const pool = new GreenPool(1);
    const pile = new GreenPile<string>(pool);
    const r = await run(function* () {
      const gate = new Event();
      yield* pool.spawn(function* () {
        yield* gate.wait();
      });
      const spawner = spawn(function* () {
        yield* pile.spawn(function* (): Green<string> {
          return 'after close';
        });
      });
      yield* sleep(0);
      const consumer = spawn(function* () {
        return yield* pile.next();
      });
      yield* sleep(0);
      pile.close();
      const result = yield* withTimeout(2000, consumer.wait());
      gate.send(undefined);
      yield* spawner.wait();
      return result;
    });
    expect(r).toEqual({ done: true, value: undefined });
  });
});
