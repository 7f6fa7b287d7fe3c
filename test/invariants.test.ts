// The class hunt (lib/hub): random interleavings of spawn, kill, timeouts, events, queues,
// locks, sleep(0), cooperate() and fd readiness, checked against what must always hold — a
// greenthread ends once and runs its finally once, nothing is resumed twice, no item or wake is
// lost or duplicated, a lock has one holder, and the hub is empty afterwards. fast-check
// shrinks any failure to a small script.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Event, Lock, Queue, Semaphore, TimeoutError, cooperate, current, getHub, pipe, sleep, spawn, withTimeout,
} from '../lib';
import type { Green, GreenFd, GreenThread } from '../lib';

afterEach(() => {
  getHub().onError(null);
  getHub().timeSliceMs = 10;
});

type Action =
  | { t: 'yield' } | { t: 'cooperate' } | { t: 'sleep'; ms: number }
  | { t: 'wait'; e: number; timeout: number } | { t: 'get'; timeout: number } | { t: 'put'; timeout: number }
  | { t: 'lock' } | { t: 'sem' } | { t: 'read'; timeout: number } | { t: 'kill'; g: number };
type Drive =
  | { t: 'kill'; g: number } | { t: 'send'; e: number } | { t: 'put' } | { t: 'write'; g: number }
  | { t: 'step' } | { t: 'sleep'; ms: number };

const timeout = fc.constantFrom(-1, 0, 1, 3);
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.constant({ t: 'yield' as const }),
  fc.constant({ t: 'cooperate' as const }),
  fc.record({ t: fc.constant('sleep' as const), ms: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ t: fc.constant('wait' as const), e: fc.integer({ min: 0, max: 1 }), timeout }),
  fc.record({ t: fc.constant('get' as const), timeout }),
  fc.record({ t: fc.constant('put' as const), timeout }),
  fc.constant({ t: 'lock' as const }),
  fc.constant({ t: 'sem' as const }),
  fc.record({ t: fc.constant('read' as const), timeout }),
  fc.record({ t: fc.constant('kill' as const), g: fc.integer({ min: 0, max: 3 }) }),
);
const GREENTHREADS = 4;
const drive: fc.Arbitrary<Drive> = fc.oneof(
  fc.record({ t: fc.constant('kill' as const), g: fc.integer({ min: 0, max: GREENTHREADS - 1 }) }),
  fc.record({ t: fc.constant('send' as const), e: fc.integer({ min: 0, max: 1 }) }),
  fc.constant({ t: 'put' as const }),
  fc.record({ t: fc.constant('write' as const), g: fc.integer({ min: 0, max: GREENTHREADS - 1 }) }),
  fc.constant({ t: 'step' as const }),
  fc.record({ t: fc.constant('sleep' as const), ms: fc.integer({ min: 0, max: 2 }) }),
);
const scenario = fc.record({
  maxsize: fc.constantFrom<number | undefined>(undefined, 0, 1, 2),
  scripts: fc.array(fc.array(action, { maxLength: 8 }), { minLength: GREENTHREADS, maxLength: GREENTHREADS }),
  /** Per greenthread: whom its finally kills (-1: nobody, -2: itself, which must throw at the
   * call site). Kills from a finally are what make a
   * kill pending on a greenthread that is on the stack. */
  finallyKills: fc.array(fc.integer({ min: -2, max: GREENTHREADS - 1 }), { minLength: GREENTHREADS, maxLength: GREENTHREADS }),
  driver: fc.array(drive, { maxLength: 16 }),
});

interface Ledger {
  violations: string[];
  offered: Set<number>;
  putOk: Set<number>;
  got: number[];
  started: number[];
  finallies: number[];
  links: number[];
  sent: Map<number, number>;
  written: number;
  read: number;
}

function runScenario(s: { maxsize: number | undefined; scripts: Action[][]; finallyKills: number[]; driver: Drive[] }): Promise<Ledger> {
  const L: Ledger = { violations: [], offered: new Set(), putOk: new Set(), got: [], started: [], finallies: [], links: [], sent: new Map(), written: 0, read: 0 };
  const hub = getHub();
  hub.timeSliceMs = 0; // every cooperate() yields
  hub.onError((err) => L.violations.push(`reported: ${String(err)}`));
  const events = [new Event<number>(), new Event<number>()];
  const queue = s.maxsize === undefined ? new Queue<number>() : new Queue<number>(s.maxsize);
  const lock = new Lock();
  const sem = new Semaphore(2);
  let lockHolders = 0;
  let semHolders = 0;
  let nextItem = 1;
  const pipes: Array<[GreenFd, GreenFd]> = s.scripts.map(() => pipe());
  const bad = (e: unknown): void => {
    if (e instanceof TimeoutError) return;
    if ((e as Error)?.name === 'GreenletExit') throw e;
    L.violations.push(`unexpected error: ${String(e)}`);
  };
  const bounded = <T>(ms: number, op: Generator<unknown, T, unknown> | { [Symbol.iterator](): Iterator<unknown, T, unknown> }) =>
    ms < 0 ? op : withTimeout(ms, op as never);

  function* body(index: number, script: Action[]): Green<void> {
    L.started.push(index);
    try {
      for (const a of script) {
        try {
          switch (a.t) {
            case 'yield': yield* sleep(0); break;
            case 'cooperate': yield* cooperate(); break;
            case 'sleep': yield* sleep(a.ms); break;
            case 'wait': {
              const v = (yield* bounded(a.timeout, events[a.e].wait())) as number;
              if (L.sent.get(a.e) !== v) L.violations.push(`event ${a.e} returned ${v} before/without that send`);
              break;
            }
            case 'get': {
              const item = (yield* bounded(a.timeout, queue.get())) as number;
              if (!L.offered.has(item)) L.violations.push(`got item ${item} that nobody put`);
              L.got.push(item);
              break;
            }
            case 'put': {
              const item = nextItem++;
              L.offered.add(item);
              yield* bounded(a.timeout, queue.put(item));
              L.putOk.add(item);
              break;
            }
            case 'lock':
              yield* lock.acquire();
              try {
                if (++lockHolders > 1) L.violations.push('two lock holders');
                yield* sleep(0);
              } finally {
                lockHolders--;
                lock.release();
              }
              break;
            case 'sem':
              yield* sem.acquire();
              try {
                if (++semHolders > 2) L.violations.push('three semaphore holders');
                yield* sleep(0);
              } finally {
                semHolders--;
                sem.release();
              }
              break;
            case 'read': {
              const data = (yield* bounded(a.timeout, pipes[index][0].recv(1))) as Buffer;
              L.read += data.length;
              break;
            }
            case 'kill':
              if (a.g !== index) gts[a.g]?.kill();
              break;
          }
        } catch (e) {
          bad(e);
        }
      }
    } finally {
      L.finallies.push(index);
      const victim = s.finallyKills[index];
      if (victim === -2 || victim === index) {
        try {
          current()!.kill(new Error('self'));
          L.violations.push('a kill of the running greenthread returned instead of throwing');
        } catch (e) {
          if ((e as Error).message !== 'self') L.violations.push(`self-kill threw ${String(e)}`);
        }
      } else if (victim >= 0) {
        try {
          gts[victim]?.kill();
        } catch (e) {
          bad(e);
        }
      }
    }
  }
  let gts: GreenThread<void>[] = [];

  return Promise.resolve(spawn(function* (): Green<Ledger> {
    gts = s.scripts.map((script, i) => {
      const gt = spawn(body, i, script);
      gt.link(() => L.links.push(i));
      return gt;
    });
    for (const d of s.driver) {
      switch (d.t) {
        case 'kill': gts[d.g].kill(); break;
        case 'send':
          if (!events[d.e].ready()) {
            L.sent.set(d.e, d.e + 100);
            events[d.e].send(d.e + 100);
          }
          break;
        case 'put': {
          const item = nextItem++;
          L.offered.add(item);
          if (queue.tryPut(item)) L.putOk.add(item);
          break;
        }
        case 'write':
          if (!pipes[d.g][1].closed && (yield* pipes[d.g][1].send(Buffer.from('x'))) === 1) L.written++;
          break;
        case 'step': yield* sleep(0); break;
        case 'sleep': yield* sleep(d.ms); break;
      }
    }
    for (const gt of gts) gt.kill();
    // Drain what is left: the queue's items and the pipes' bytes.
    const remaining: number[] = [];
    for (let item = queue.tryGet(); item !== undefined; item = queue.tryGet()) remaining.push(item);
    for (const [r, w] of pipes) {
      w.close();
      for (;;) {
        const b = yield* r.recv();
        if (b.length === 0) break;
        L.read += 0; // bytes never read by a greenthread stay out of L.read
        L.written -= b.length;
      }
      r.close();
    }
    yield* sleep(5);
    // Conservation and exactly-once.
    const seen = new Set<number>();
    for (const item of L.got) {
      if (seen.has(item)) L.violations.push(`item ${item} got twice`);
      seen.add(item);
    }
    for (const item of remaining) if (seen.has(item)) L.violations.push(`item ${item} got and still queued`);
    for (const item of L.putOk) if (!seen.has(item) && !remaining.includes(item)) L.violations.push(`item ${item} put and lost`);
    if (L.written !== L.read) L.violations.push(`bytes written ${L.written} != read ${L.read}`);
    const once = (xs: number[], expected: number[], what: string) => {
      const a = [...xs].sort().join();
      const b = [...expected].sort().join();
      if (a !== b) L.violations.push(`${what}: ${a}, expected ${b}`);
    };
    once(L.started, [...new Set(L.started)], 'bodies started more than once');
    once(L.finallies, L.started, 'finally blocks (once per started body)');
    once(L.links, gts.map((_, i) => i), 'ends (once per greenthread)');
    return L;
  }));
}

describe('random interleavings (fast-check)', () => {
  it('never lose or duplicate an item, a byte or a wake, never resume twice, and leave the hub empty', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const L = await runScenario(s);
        await new Promise((r) => setTimeout(r, 1));
        const st = getHub().stats();
        expect(L.violations).toEqual([]);
        expect({ greenthreads: st.greenthreads, runnable: st.runnable, timers: st.timers, fdWaiters: st.fdWaiters }).toEqual({ greenthreads: 0, runnable: 0, timers: 0, fdWaiters: 0 });
      }),
      { numRuns: Number(process.env.INVARIANT_RUNS ?? 150), seed: process.env.INVARIANT_SEED ? Number(process.env.INVARIANT_SEED) : undefined },
    );
  });
});
