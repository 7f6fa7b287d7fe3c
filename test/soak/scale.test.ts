// Scale (lib/hub/wait-queue.ts, lib/sync/wait-list.ts): waking, killing or timing out one
// waiter costs the same among many waiters as among few, on every primitive; killAll is
// linear; idle greenthreads are small. Timing is compared within this run (a baseline of few
// waiters against many), with generous bounds. Short in `make test`; `make soak` runs
// SOAK_GREENTHREADS = 1,000,000.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/green';

const IDLE = Number(process.env.SOAK_GREENTHREADS ?? 100_000);

/** Runs a script in a child Node with --expose-gc (cwd: the repo; it requires ./dist) and parses its JSON line. */
function child<T>(script: string): T {
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`child failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

describe('removing one waiter is O(1) on every primitive', () => {
  for (const primitive of ['Event', 'Semaphore', 'Queue', 'GreenPool', 'GreenThread.wait']) {
    it(`${primitive}: killing 1,000 waiters among 100,000 costs about what it costs among 1,000`, () => {
      const r = child<{ few: number; many: number }>(`
        const g = require('./dist');
        function park(n) {
          // n greenthreads waiting on one ${primitive}
          const ev = new g.Event(), sem = new g.Semaphore(0), q = new g.Queue();
          const pool = new g.GreenPool(1), blocker = g.spawn(function* () { yield* g.sleep(1e9); });
          const body = {
            Event: function* () { yield* ev.wait(); },
            Semaphore: function* () { yield* sem.acquire(); },
            Queue: function* () { yield* q.get(); },
            GreenPool: function* () { yield* pool.spawn(function* () {}); },
            'GreenThread.wait': function* () { yield* blocker.wait(); },
          }['${primitive}'];
          // The pool's one slot is taken first (spawn order is run order): the rest wait for it.
          g.spawn(function* () { yield* pool.spawn(function* () { yield* g.sleep(1e9); }); });
          const gts = [];
          for (let i = 0; i < n; i++) gts.push(g.spawn(body));
          return gts;
        }
        function cost(n) {
          const gts = park(n);
          return new Promise((done) => setImmediate(() => setImmediate(() => {
            const t = performance.now();
            for (let i = 0; i < 1000; i++) gts[(i * 7919) % n].kill();
            const ms = performance.now() - t;
            g.getHub().killAll();
            done(ms);
          })));
        }
        (async () => {
          await cost(1000); // warm-up
          const few = await cost(1000), many = await cost(100000);
          console.log(JSON.stringify({ few, many }));
        })();
      `);
      // Removal by search was ~50x slower among 100,000 than among 1,000.
      expect(r.many / r.few).toBeLessThan(8);
    });
  }
});

describe('idle greenthreads', () => {
  it(`${IDLE.toLocaleString()} parked on an Event and ${IDLE.toLocaleString()} sleeping take < 1,000 heap bytes each; killAll is linear`, () => {
    const r = child<{ event: number; timer: number; killSmall: number; killLarge: number }>(`
      const { spawn, sleep, Event, getHub } = require('./dist');
      const ev = new Event();
      function* waiter() { yield* ev.wait(); }
      function* sleeper() { yield* sleep(1e9); }
      function bytesEach(body, n) {
        global.gc();
        const before = process.memoryUsage().heapUsed;
        for (let i = 0; i < n; i++) spawn(body);
        return new Promise((done) => setImmediate(() => setImmediate(() => {
          global.gc();
          done((process.memoryUsage().heapUsed - before) / n);
        })));
      }
      function killAllMs() {
        const t = performance.now();
        getHub().killAll();
        return performance.now() - t;
      }
      (async () => {
        const event = await bytesEach(waiter, ${IDLE});
        const killLarge = killAllMs();
        const timer = await bytesEach(sleeper, ${IDLE});
        killAllMs();
        await bytesEach(sleeper, ${Math.floor(IDLE / 10)});
        const killSmall = killAllMs();
        console.log(JSON.stringify({ event, timer, killSmall, killLarge }));
      })();
    `);
    expect(r.event).toBeLessThan(1000);
    expect(r.timer).toBeLessThan(1000);
    // Ten times the greenthreads: about ten times the time, never the square (allow 40x).
    expect(r.killLarge / Math.max(r.killSmall, 0.1)).toBeLessThan(40);
  });
});
