// Kill behaves the same at every suspension point (lib/hub/hub.ts): the victim's finally runs
// before kill() returns, its waiters get GreenletExit, a kill from inside that finally throws
// at the call site, and nothing is resumed twice — whether the kill lands while the victim is
// suspended, or is left pending while the victim is on the stack and lands at its next
// suspension.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Event, Lock, Queue, cooperate, current, getHub, listen, sleep, spawn, trampoline, waitFor,
} from '../lib';
import type { Green, GreenServer, GreenThread, Operation } from '../lib';
import { run } from './helpers/green';
import { connectedPair } from './helpers/net';
import { closeAll, pipe } from './helpers/raw';

const reported: unknown[] = [];
let server: GreenServer;
beforeEach(() => {
  reported.length = 0;
  getHub().onError((err) => reported.push(err));
  server = listen({ port: 0 });
});
afterEach(() => {
  getHub().onError(null);
  getHub().timeSliceMs = 10;
  server.close();
});

/** A suspension point: `suspend()` parks the caller there; `cleanup()` frees what it made. */
interface Point {
  name: string;
  /** A yield that returns on its own at the next turn: the victim repeats it until killed. */
  repeats?: boolean;
  setup(): Green<{ suspend: () => Operation<unknown>; cleanup: () => void }>;
}

const POINTS: Point[] = [
  { name: 'sleep(0)', repeats: true, *setup() { return { suspend: () => sleep(0), cleanup: () => {} }; } },
  {
    name: 'cooperate() that yields',
    repeats: true,
    *setup() {
      getHub().timeSliceMs = 0;
      return { suspend: () => cooperate(), cleanup: () => {} };
    },
  },
  { name: 'sleep(ms)', *setup() { return { suspend: () => sleep(10_000), cleanup: () => {} }; } },
  { name: 'Event.wait()', *setup() { const e = new Event(); return { suspend: () => e.wait(), cleanup: () => {} }; } },
  { name: 'Queue.get()', *setup() { const q = new Queue<number>(); return { suspend: () => q.get(), cleanup: () => {} }; } },
  { name: 'Queue(0).put()', *setup() { const q = new Queue<number>(0); return { suspend: () => q.put(1), cleanup: () => {} }; } },
  {
    name: 'Lock.acquire()',
    *setup() {
      const l = new Lock();
      yield* l.acquire();
      return { suspend: () => l.acquire(), cleanup: () => l.release() };
    },
  },
  {
    name: 'GreenThread.wait()',
    *setup() {
      const other = spawn(function* () { yield* sleep(10_000); });
      return { suspend: () => other.wait(), cleanup: () => other.kill() };
    },
  },
  {
    name: 'waitFor(promise)',
    *setup() { return { suspend: () => waitFor(new Promise(() => {})), cleanup: () => {} }; },
  },
  {
    name: 'socket recv()',
    *setup() {
      const [a, b] = yield* connectedPair(server);
      return { suspend: () => a.recv(), cleanup: () => { a.close(); b.close(); } };
    },
  },
  {
    name: 'trampoline(read)',
    *setup() {
      const [r, w] = pipe();
      return { suspend: () => trampoline(r, { read: true }), cleanup: () => closeAll(r, w) };
    },
  },
];

for (const point of POINTS) {
  describe(`kill at ${point.name}`, () => {
    it('while suspended: finally runs before kill() returns; a kill from the finally throws at the call site; waiters get GreenletExit', async () => {
      const log: string[] = [];
      await run(function* () {
        const { suspend, cleanup } = yield* point.setup();
        const victim = spawn(function* (): Green<void> {
          try {
            do yield* suspend();
            while (point.repeats);
            log.push('resumed (must not happen)');
          } finally {
            log.push('finally');
            try {
              current()!.kill(new Error('again'));
              log.push('self-kill returned (must not happen)');
            } catch (e) {
              log.push(`self-kill threw ${(e as Error).message}`);
            }
          }
        });
        const waiter = spawn(function* () {
          try {
            yield* victim.wait();
          } catch (e) {
            log.push(`waiter got ${(e as Error).name}`);
          }
        });
        yield* sleep(0);
        yield* sleep(0);
        victim.kill();
        log.push('kill returned');
        yield* waiter.wait();
        cleanup();
      });
      expect(log).toEqual(['finally', 'self-kill threw again', 'kill returned', 'waiter got GreenletExit']);
      expect(reported).toEqual([]);
    });

    it('left pending while on the stack: it lands at the next suspension, as Running, never resumed twice', async () => {
      const log: string[] = [];
      await run(function* () {
        const { suspend, cleanup } = yield* point.setup();
        let victim: GreenThread<void> | undefined;
        // The killer is resumed (killed) from inside the victim, and kills the victim from its
        // finally: the victim is on the stack, so its kill is pending until it suspends.
        const killer = spawn(function* () {
          try {
            yield* sleep(10_000);
          } finally {
            victim!.kill();
          }
        });
        victim = spawn(function* (): Green<void> {
          killer.kill();
          log.push('pending kill set');
          try {
            yield* suspend();
            log.push('resumed (must not happen)');
          } finally {
            log.push('finally');
            try {
              current()!.kill(new Error('again'));
            } catch (e) {
              log.push(`self-kill threw ${(e as Error).message}`);
            }
          }
        });
        const observer = spawn(function* () {
          try {
            yield* victim!.wait();
          } catch (e) {
            log.push(`waiter got ${(e as Error).name}`);
          }
        });
        yield* observer.wait();
        cleanup();
      });
      expect(log).toEqual(['pending kill set', 'finally', 'self-kill threw again', 'waiter got GreenletExit']);
      expect(reported).toEqual([]);
    });
  });
}

describe('an Event.wait in the finally of a greenthread killed at sleep(0)', () => {
  it('waits for a send: it does not return because a stale queue entry resumed it', async () => {
    const log: string[] = [];
    await run(function* () {
      const e = new Event<string>();
      let victim: GreenThread<void> | undefined;
      const killer = spawn(function* () {
        try {
          yield* sleep(10_000);
        } finally {
          victim!.kill();
        }
      });
      victim = spawn(function* () {
        killer.kill();
        try {
          yield* sleep(0);
        } finally {
          log.push(`finally waits: ${yield* e.wait()}`);
        }
      });
      yield* sleep(0);
      yield* sleep(0);
      yield* sleep(0);
      log.push('before send');
      e.send('sent');
      try {
        yield* victim.wait();
      } catch (err) {
        log.push(`victim ended with ${(err as Error).name}`);
      }
    });
    expect(log).toEqual(['before send', 'finally waits: sent', 'victim ended with GreenletExit']);
    expect(reported).toEqual([]);
  });
});
