// Issue 15, item 6: deadlock diagnosis. When Node's loop runs dry ('beforeExit') while live
// greenthreads are parked on waits nothing left in the process can end, one report names each
// and what it waits on, and the exit code is 1 (gevent's LoopExit, with the names). Nothing is
// said for greenthreads that ended, and for waits on what was unref'd on purpose. Child
// processes: the exit code and stderr at exit are the point.
import { describe, expect, it } from 'vitest';
import { node } from './helpers/green';

const REPORT = /greenhub: deadlock: /g;

describe('deadlock report at exit (child processes)', () => {
  it('names each greenthread parked on an Event, a Queue, a Lock, gt.wait() on one of them, or a promise; one report; exit code 1', () => {
    const r = node(`
      const { Event, Lock, Queue, spawn, sleep, waitFor } = require('./dist');
      const ev = new Event();
      const q = new Queue();
      const lock = new Lock();
      spawn(function* waiter() { yield* ev.wait(); });
      const consumer = spawn(function* consumer() { yield* q.get(); });
      spawn(function* joiner() { yield* consumer.wait(); });
      spawn(function* holder() { yield* lock.acquire(); yield* sleep(Infinity); });
      spawn(function* locker() { yield* sleep(5); yield* lock.acquire(); });
      spawn(function* promised() { yield* waitFor(new Promise(() => {})); });
      process.on('exit', (code) => console.log('exit ' + code));
    `);
    expect(r.stdout.trim()).toBe('exit 1');
    expect(r.status).toBe(1);
    expect(r.stderr.match(REPORT)).toHaveLength(1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('  "'));
    expect(lines).toEqual([
      '  "waiter" (id 1): waiting on Event.wait() (1 of 1 waiting)',
      '  "consumer" (id 2): waiting on Queue.get() (1 of 1 waiting)',
      '  "joiner" (id 3): waiting on greenthread 2 (consumer)',
      '  "locker" (id 5): waiting on Lock.acquire() (1 of 1 waiting)',
      '  "promised" (id 6): waiting on a promise',
    ]);
    // The lock's holder sleeps until killed (sleep(Infinity)): its own choice, not a deadlock.
    expect(r.stderr).not.toContain('"holder"');
  });

  it('leaves out greenthreads that finished, were killed, were cancelled or were woken', () => {
    const r = node(`
      const { Event, spawn, sleep } = require('./dist');
      const ev = new Event();
      spawn(function* finished() { yield* sleep(1); });
      const killed = spawn(function* killed() { yield* ev.wait(); });
      const notStarted = spawn(function* notStarted() { yield* ev.wait(); });
      notStarted.cancel();
      spawn(function* () { yield* sleep(5); killed.kill(); });
      const woken = spawn(function* woken() { return yield* ev.wait(); });
      setTimeout(() => ev.send('sent'), 10);
      woken.then((v) => console.log('woken ' + v));
      const never = new Event();
      spawn(function* stuck() { yield* never.wait(); });
    `);
    expect(r.stdout.trim()).toBe('woken sent');
    expect(r.stderr.match(REPORT)).toHaveLength(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('  "'))).toEqual(['  "stuck" (id 6): waiting on Event.wait() (1 of 1 waiting)']);
    expect(r.status).toBe(1);
  });

  it("leaves out waits on what was unref'd on purpose: a server's accept, a socket's recv, a looping call (and who waits for it, alone or in all()), sleep(Infinity)", () => {
    const r = node(`
      const { all, connect, Event, listen, loopingCall, spawn, sleep } = require('./dist');
      const server = listen({ port: 0 }).unref();
      spawn(function* acceptor() { yield* server.accept(); yield* server.accept(); });
      spawn(function* reader() {
        const s = (yield* connect({ host: '127.0.0.1', port: server.address().port })).unref();
        yield* s.recv();
      });
      const beat = loopingCall(() => {}, { intervalMs: 20, name: 'beat' }).unref();
      spawn(function* beatWaiter() { yield* beat.wait(); });
      spawn(function* gatherer() { yield* all([beat.wait(), sleep(Infinity)]); });
      spawn(function* forever() { yield* sleep(Infinity); });
      const never = new Event();
      spawn(function* stuck() { yield* never.wait(); });
      setTimeout(() => console.log('left with ' + require('./dist').getHub().stats().greenthreads + ' greenthreads'), 60);
    `);
    expect(r.stdout.trim()).toMatch(/^left with \d+ greenthreads$/);
    expect(r.stderr.match(REPORT)).toHaveLength(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('  "'))).toEqual([expect.stringMatching(/^ {2}"stuck" \(id \d+\): waiting on Event\.wait\(\) \(1 of 1 waiting\)$/)]);
    expect(r.status).toBe(1);
  });

  it('waits for the other beforeExit listeners: one that wakes a greenthread (a timer, a promise chain, a file read) keeps it out of the report', () => {
    const r = node(`
      const fs = require('node:fs');
      const { Event, spawn, waitFor } = require('./dist');
      const ev = new Event();
      const byFile = new Event();
      const never = new Event();
      let resolve;
      const p = new Promise((r) => (resolve = r));
      spawn(function* byTimer() { yield* ev.wait(); console.log('woke by a timer'); });
      spawn(function* byPromise() { yield* waitFor(p.then((x) => x).then((x) => x)); console.log('woke by a promise'); });
      spawn(function* byRead() { yield* byFile.wait(); console.log('woke by a file read'); });
      spawn(function* stuck() { yield* never.wait(); });
      let n = 0;
      process.on('beforeExit', () => {
        n++;
        if (n === 1) setTimeout(() => ev.send(), 5);
        if (n === 2) Promise.resolve().then(() => 0).then(() => 0).then(() => resolve());
        if (n === 3) fs.stat('/', () => byFile.send());
      });
      process.on('exit', (code) => console.log('exit ' + code + ' after ' + n + ' beforeExit'));
    `);
    expect(r.stdout.trim().split('\n')).toEqual(['woke by a timer', 'woke by a promise', 'woke by a file read', 'exit 1 after 4 beforeExit']);
    expect(r.stderr.match(REPORT)).toHaveLength(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('  "'))).toEqual(['  "stuck" (id 4): waiting on Event.wait() (1 of 1 waiting)']);
    expect(r.status).toBe(1);
  });

  it('does not keep the process alive: beforeExit comes once, and the report with it', () => {
    const r = node(`
      const { Event, spawn } = require('./dist');
      const ev = new Event();
      spawn(function* waiter() { yield* ev.wait(); });
      let n = 0;
      process.on('beforeExit', () => n++);
      process.on('exit', (code) => console.log('exit ' + code + ' after ' + n + ' beforeExit'));
    `);
    expect(r.stdout.trim()).toBe('exit 1 after 1 beforeExit');
    expect(r.stderr.match(REPORT)).toHaveLength(1);
  });

  it('reports once with two copies of the module in the process (one hub, one check)', () => {
    const r = node(`
      const a = require('./dist');
      for (const k of Object.keys(require.cache)) if (k.includes('/dist/')) delete require.cache[k];
      const b = require('./dist');
      const ev = new b.Event();
      a.spawn(function* fromA() { yield* ev.wait(); });
      b.spawn(function* fromB() { yield* ev.wait(); });
    `);
    expect(r.stderr.match(REPORT)).toHaveLength(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('  "'))).toHaveLength(2);
    expect(r.status).toBe(1);
  });

  it('in debug mode says where each one waits', () => {
    const r = node(`
      process.env.GREENHUB_DEBUG = '1';
      const { Queue, spawn } = require('./dist');
      const q = new Queue();
      spawn(function* consumer() {
        yield* q.get(); // line 6
      });
    `);
    expect(r.stderr).toMatch(/^ {2}"consumer" \(id 1\): waiting on Queue\.get\(\) \(1 of 1 waiting\), at \[eval\]:6:\d+$/m);
    expect(r.status).toBe(1);
  });

  it('names the root of main() when it waits on an Event nobody sends', () => {
    const r = node(`
      const { Event, main } = require('./dist');
      const never = new Event();
      main(function* app() { yield* never.wait(); });
    `);
    expect(r.stderr).toMatch(/^ {2}"app" \(id 1\): waiting on Event\.wait\(\) \(1 of 1 waiting\)$/m);
    expect(r.status).toBe(1);
  });
});
