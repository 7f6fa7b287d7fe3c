// The hub itself (lib/hub/hub.ts): dump, stats, handlers, killAll/shutdown, keep-alive, one hub
// per thread.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { GreenletExit, getHub, sleep, spawn, spawnAfter, trampoline, waitFor } from '../lib';
import type { GreenThread } from '../lib';
import { ROOT, node, run } from './helpers/green';
import { closeAll, pipe } from './helpers/raw';

const turns = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

describe('getHub().dump()', () => {
  it('lists every live greenthread with id, name, state and what it waits on', async () => {
    const [r, w] = pipe();
    const never = new Promise<void>(() => {});
    const sleeper = spawn(function* sleeper() {
      yield* sleep(10_000);
    });
    const reader = spawn(function* reader() {
      yield* trampoline(r, { read: true });
    });
    const promised = spawn(function* promised() {
      yield* waitFor(never);
    });
    const joiner = spawn(function* joiner() {
      yield* sleeper.wait();
    });
    const later = spawnAfter(10_000, function* later() {});
    const fresh = spawn(function* fresh() {});
    fresh.kill();
    const queued = spawn(function* queued() {});
    const byName = () => Object.fromEntries(getHub().dump().map((d) => [d.name, d]));
    expect(byName().queued).toMatchObject({ id: queued.id, state: 'new', waitingOn: null });
    await turns();
    const d = byName();
    expect(d.fresh).toBeUndefined();
    expect(d.queued).toBeUndefined(); // finished
    expect(d.sleeper).toMatchObject({ id: sleeper.id, state: 'sleeping', priority: 'normal' });
    expect(d.sleeper.waitingOn).toMatch(/^timer until \+\d/);
    expect(d.reader).toMatchObject({ state: 'waiting', waitingOn: `fd ${r} for read` });
    expect(d.promised).toMatchObject({ state: 'waiting', waitingOn: 'a promise' });
    expect(d.joiner).toMatchObject({ state: 'waiting', waitingOn: `greenthread ${sleeper.id} (sleeper)` });
    expect(d.later).toMatchObject({ state: 'sleeping' });
    expect(d.later.waitingOn).toMatch(/^start at \+/);
    expect(typeof d.sleeper.runTimeMs).toBe('number');
    const inside = await run(function* inspector() {
      return getHub().dump().find((x) => x.name === 'inspector')!.state;
    });
    expect(inside).toBe('running');
    for (const gt of [sleeper, reader, promised, joiner, later] as GreenThread<void>[]) gt.kill();
    expect(getHub().dump().filter((x) => ['sleeper', 'reader', 'promised', 'joiner', 'later'].includes(x.name))).toEqual([]);
    closeAll(r, w);
  });
});

describe('getHub().stats()', () => {
  it('counts greenthreads, timers, fd waiters, switches and turns', async () => {
    const hub = getHub();
    const s0 = hub.stats();
    const gts = [1, 2, 3].map(() => spawn(function* () { yield* sleep(10_000); }));
    await turns();
    const s1 = hub.stats();
    expect(s1.greenthreads - s0.greenthreads).toBe(3);
    expect(s1.timers - s0.timers).toBe(3);
    expect(s1.switches - s0.switches).toBeGreaterThanOrEqual(3);
    expect(s1.turns).toBeGreaterThan(s0.turns);
    for (const gt of gts) gt.kill();
    expect(hub.stats()).toMatchObject({ greenthreads: s0.greenthreads, timers: s0.timers });
  });
});

describe('handlers', () => {
  it('rejects a handler that is not a function', () => {
    expect(() => getHub().onError(5 as never)).toThrow(TypeError);
    expect(() => getHub().onWarning('x' as never)).toThrow(TypeError);
  });

  it('passes errors thrown by a link callback to the error handler', async () => {
    const seen: unknown[] = [];
    getHub().onError((e) => seen.push(e));
    try {
      const gt = spawn(function* () {});
      gt.link(() => {
        throw new Error('from link');
      });
      await gt;
      expect(seen.map((e) => (e as Error).message)).toEqual(['from link']);
    } finally {
      getHub().onError(null);
    }
  });
});

describe('killAll and shutdown', () => {
  it('killAll kills every other greenthread', async () => {
    const gts = [1, 2].map(() => spawn(function* () { yield* sleep(10_000); }));
    await turns();
    await run(function* () {
      getHub().killAll();
    });
    expect(gts.every((g) => g.dead)).toBe(true);
  });

  it('shutdown runs every finally, also one that suspends', async () => {
    const log: string[] = [];
    const gts = [
      spawn(function* a() {
        try {
          yield* sleep(10_000);
        } finally {
          log.push('a finally');
        }
      }),
      spawn(function* b() {
        try {
          yield* sleep(10_000);
        } finally {
          log.push('b finally start');
          yield* sleep(10_000);
          log.push('b finally end (killed before)');
        }
      }),
      spawn(function* c() {
        log.push('c ran');
      }),
    ];
    await turns();
    const c2 = spawn(function* notStarted() {
      log.push('never');
    });
    getHub().shutdown();
    expect(log.sort()).toEqual(['a finally', 'b finally start', 'c ran']);
    expect([...gts, c2].every((g) => g.dead)).toBe(true);
    for (const g of [...gts, c2]) await Promise.resolve(g).catch((e) => expect(e).toBeInstanceOf(GreenletExit));
  });
});

describe('keep-alive (child processes)', () => {
  it('exits by itself when its greenthreads finish', () => {
    const r = node(`
      const { spawn, sleep } = require('./dist');
      spawn(function* () { yield* sleep(5); console.log('done'); });
    `);
    expect(r.stdout.trim()).toBe('done');
    expect(r.status).toBe(0);
  });

  it('exits when every greenthread waits on something the hub cannot wake (with a deadlock report and exit code 1)', () => {
    const r = node(`
      const { spawn, waitFor } = require('./dist');
      spawn(function* () { yield* waitFor(new Promise(() => {})); console.log('never'); });
      spawn(function* () { yield* waitFor(new Promise(() => {})); });
      process.on('exit', () => console.log('exited'));
    `);
    expect(r.stdout.trim()).toBe('exited');
    expect(r.stderr).toContain('greenhub: deadlock: '); // test/deadlock.test.ts
    expect(r.status).toBe(1);
  });

  it('stays alive while a greenthread sleeps, until it wakes', () => {
    const r = node(`
      const { spawn, sleep } = require('./dist');
      const t0 = Date.now();
      spawn(function* () { yield* sleep(200); console.log('woke after ' + (Date.now() - t0 >= 190)); });
    `);
    expect(r.stdout.trim()).toBe('woke after true');
  });

  it('stays alive while a greenthread waits on an fd', () => {
    const r = node(`
      const { spawn, trampoline } = require('./dist');
      const { native } = require('./dist/native.js');
      const efd = native.eventfd(0);
      spawn(function* () { yield* trampoline(efd, { read: true }); console.log('readable'); });
      setTimeout(() => native.eventfdWrite(efd, 1), 100).unref();
    `);
    expect(r.stdout.trim()).toBe('readable');
  });
});

describe('keep-alive of unref()\'d I/O and of sleep(Infinity) (child processes)', () => {
  it('a server whose accept waits does not hold the process once unref()\'d; ref() holds it again', () => {
    const r = node(`
      const { listen, spawn } = require('./dist');
      const server = listen({ port: 0 }).unref();
      spawn(function* () { yield* server.accept(); });
      process.on('exit', () => console.log('exited'));
    `);
    expect(r.stdout.trim()).toBe('exited');
    const held = node(`
      const { listen, spawn } = require('./dist');
      const server = listen({ port: 0 }).unref().ref();
      spawn(function* () { yield* server.accept(); });
      setTimeout(() => { console.log('still held'); server.close(); }, 100).unref();
    `);
    expect(held.stdout.trim()).toBe('still held');
  });

  it('a socket whose recv waits does not hold the process once unref()\'d', () => {
    const r = node(`
      const { connect, listen, spawn } = require('./dist');
      const server = listen({ port: 0 }).unref();
      spawn(function* () { yield* server.accept(); });
      spawn(function* () {
        const s = (yield* connect({ host: '127.0.0.1', port: server.address().port })).unref();
        yield* s.recv();
      });
      process.on('exit', () => console.log('exited'));
    `);
    expect(r.stdout.trim()).toBe('exited');
  });

  it('sleep(Infinity) holds nothing and ends when killed', () => {
    const r = node(`
      const { spawn, sleep } = require('./dist');
      const gt = spawn(function* () { try { yield* sleep(Infinity); } finally { console.log('killed'); } });
      setTimeout(() => gt.kill(), 20);
      const idle = spawn(function* () { yield* sleep(Infinity); });
      process.on('exit', () => console.log('exited, idle sleeper alive: ' + !idle.dead));
    `);
    expect(r.stdout.trim().split('\n')).toEqual(['killed', 'exited, idle sleeper alive: true']);
  });
});

describe('keep-alive after changes from async code (child processes)', () => {
  it('exits once a greenthread waiting on an fd is killed from a Node timer', () => {
    const r = node(`
      const { spawn, trampoline } = require('./dist');
      const { native } = require('./dist/native.js');
      const efd = native.eventfd(0);
      const gt = spawn(function* () { yield* trampoline(efd, { read: true }); });
      setTimeout(() => { gt.kill(); console.log('killed'); }, 30);
    `, 15_000);
    expect(r.stdout.trim()).toBe('killed');
    expect(r.status).toBe(0);
  });

  it('exits at once when a long sleeper is killed, or a spawnAfter cancelled, from async code', () => {
    const r = node(`
      const { spawn, spawnAfter, sleep } = require('./dist');
      const t0 = Date.now();
      const sleeper = spawn(function* () { yield* sleep(60000); });
      const later = spawnAfter(60000, function* () {});
      const huge = spawn(function* () { yield* sleep(2 ** 31 + 10); });
      const hugeLater = spawnAfter(3e9, function* () {});
      setTimeout(() => { sleeper.kill(); later.cancel(); huge.kill(); hugeLater.cancel(); }, 30);
      process.on('exit', () => console.log('exited within 5 s: ' + (Date.now() - t0 < 5000)));
    `, 15_000);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('exited within 5 s: true');
  });

  it('reports the error of a not-started greenthread killed with an error from async code', () => {
    const r = node(`
      const { spawn, getHub } = require('./dist');
      getHub().onError((e, gt) => console.log('reported ' + e.message));
      const gt = spawnLater();
      function spawnLater() { return spawn(function* () {}); }
      gt.kill(new Error('custom'));
    `);
    expect(r.stdout.trim()).toBe('reported custom');
  });
  it('holds the process for a timer armed from async code while an unref\'d one is earlier', () => {
    // The loop timer was armed for the unref'd looping call: a later, ref'd timer must re-arm
    // it as one that holds the process, or the process exits with the timer pending.
    const r = node(`
      const { loopingCall, spawnAfter } = require('./dist');
      const beat = loopingCall(() => {}, { intervalMs: 10 });
      beat.unref();
      setTimeout(() => {
        spawnAfter(50, function* () { console.log('ran'); beat.stop(); });
      }, 5);
    `);
    expect(r.stdout.trim()).toBe('ran');
    expect(r.status).toBe(0);
  });
});

describe('turn order', () => {
  it('runs what a high-priority greenthread wakes on a later turn, not the same one', async () => {
    const hub = getHub();
    const turns: number[] = [];
    await new Promise<void>((resolve) => {
      spawn({ priority: 'high' }, function* () {
        turns.push(hub.stats().turns);
        spawn(function* () {
          turns.push(hub.stats().turns);
          resolve();
        });
      });
    });
    expect(turns[1]).toBeGreaterThan(turns[0]);
  });

  it('validates timeSliceMs', () => {
    expect(() => (getHub().timeSliceMs = Number.NaN)).toThrow(RangeError);
    expect(() => (getHub().timeSliceMs = -1)).toThrow(RangeError);
    expect(getHub().timeSliceMs).toBe(10);
  });
});

describe('one hub per thread', () => {
  it('runs hubs in two worker threads independently', async () => {
    const source = `
      const { workerData, parentPort } = require('node:worker_threads');
      const { spawn, sleep, getHub } = require(workerData.root + '/dist');
      let n = 0;
      const gts = [1, 2, 3].map((k) => spawn(function* () {
        for (let i = 0; i < 10 * k; i++) { n++; yield* sleep(0); }
      }));
      Promise.all(gts).then(() => parentPort.postMessage({ n, greenthreads: getHub().stats().greenthreads }));
    `;
    const results = await Promise.all(
      [0, 1].map(
        () =>
          new Promise((resolve, reject) => {
            const w = new Worker(source, { eval: true, workerData: { root: ROOT } });
            w.once('message', resolve);
            w.once('error', reject);
          }),
      ),
    );
    expect(results).toEqual([{ n: 60, greenthreads: 0 }, { n: 60, greenthreads: 0 }]);
  });

  it('shares one hub between two copies of the module in one thread', () => {
    const r = node(`
      const a = require('./dist');
      for (const k of Object.keys(require.cache)) if (k.includes('/dist/')) delete require.cache[k];
      const b = require('./dist');
      if (a === b || a.spawn === b.spawn) throw new Error('not two copies');
      console.log('same hub: ' + (a.getHub() === b.getHub()));
      const gt = a.spawn(function* () { yield* b.sleep(1); yield* b.sleep(0); return b.current() === gt; });
      gt.then((v) => console.log('mixed ops: ' + v));
      function* one() { yield* a.sleep(1); return 1; }
      function* two() { yield* b.sleep(3); return 2; }
      b.spawn(function* () { return [yield* b.all([one(), two()]), yield* b.race([two(), one()])]; })
        .then((v) => console.log('all/race: ' + JSON.stringify(v)));
    `);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['same hub: true', 'mixed ops: true', 'all/race: [[1,2],1]']);
  });
});
