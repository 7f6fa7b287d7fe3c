// tpool (lib/hog/tpool.ts) when a worker thread cannot start: real failures in a child process
// (no mocks). piscina reports a worker that fails before it is ready as 'error' on the Piscina
// instance, and leaves the tasks that waited for it in its queue; with no listener, that 'error'
// killed the whole process. Two real causes:
// - out of fds: Worker emits 'error' ERR_WORKER_INIT_FAILED "Worker initialization failure:
//   EMFILE" (on Node 20 a thread's event loop needs 4 fds);
// - at a thread limit: new Worker throws ERR_WORKER_INIT_FAILED "EAGAIN" inside piscina's run(),
//   and piscina's queue then starts no thread again: every later task waited for ever.
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/green';

const TASKS = path.join(__dirname, 'fixtures', 'cpu-tasks.js');

type Result = { status: number | null; stdout: string; stderr: string; signal: NodeJS.Signals | null };

/** The `node()` helper of helpers/green.ts (`node -e script` in the repo root), run by `command`. */
function nodeVia(command: string, args: string[], script: string, timeoutMs = 20_000): Result {
  const r = spawnSync(command, [...args, process.execPath, '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

/** With the child's fd limit lowered. */
function nodeWithFdLimit(limit: number, script: string): Result {
  return nodeVia('sh', ['-c', `ulimit -n ${limit} && exec "$@"`, 'sh'], script);
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** RLIMIT_NPROC binds only an unprivileged user: root runs the child as nobody (65534). */
const canLimitThreads = process.getuid?.() === 0 && hasCommand('setpriv') && hasCommand('prlimit');

/** The script's helper: a greenthread that runs add(a, b) on tpool, returning 'ok 3' or 'error CODE ...'. */
const ADD = `
  function add(a, b) {
    return spawn(function* () {
      try {
        return 'ok ' + (yield* tpool.execute({ filename: ${JSON.stringify(TASKS)}, name: 'add' }, a, b));
      } catch (e) {
        return 'error ' + e.code + ' ' + (e.cause && e.cause.code) + ' ' + /^tpool: a worker thread could not start/.test(e.message);
      }
    });
  }
`;

describe('tpool when a worker thread cannot start', () => {
  it('fails the waiting greenthreads with EMFILE, keeps the process and its server alive, and recovers once fds are free', () => {
    const r = nodeWithFdLimit(256, `
      const fs = require('node:fs');
      const { connect, listen, serve, spawn, tpool } = require('./dist');
      ${ADD}
      tpool.configure({ size: 2 });
      const server = listen({ port: 0 });
      const port = server.address().port;
      spawn(() => serve(server, function* (c) {
        yield* c.sendAll(yield* c.readLine()); // echoes a line, then closes
      }));
      const fds = [];
      /** Opens /dev/null until EMFILE, then leaves 2 fds free: not enough for a thread. */
      function exhaust() {
        try {
          for (;;) fds.push(fs.openSync('/dev/null', 'r'));
        } catch (e) {
          if (e.code !== 'EMFILE') throw e;
        }
        fs.closeSync(fds.pop());
        fs.closeSync(fds.pop());
      }
      spawn(function* () {
        exhaust();
        const waiting = [add(1, 2), add(3, 4)]; // both wait for a thread that cannot start
        for (const t of waiting) console.log(yield* t.wait());
        // The process is alive and its server serves while tpool is broken. (Node 20 leaks one
        // fd per failed thread start, so free 2 more for the client and the accepted socket.)
        fs.closeSync(fds.pop());
        fs.closeSync(fds.pop());
        const c = yield* connect({ host: '127.0.0.1', port });
        yield* c.sendAll(Buffer.from('ping\\n'));
        console.log('echo ' + (yield* c.readLine()).toString().trim());
        yield* c.readLine(); // the server's end: its socket is closed
        c.close();
        // Still out of fds: the next execute fails again, cleanly.
        exhaust();
        console.log(yield* add(5, 6).wait());
        // Resources come back: the pool recovers.
        for (const fd of fds.splice(0)) fs.closeSync(fd);
        console.log(yield* add(20, 22).wait());
        const both = [add(1, 1), add(2, 2)];
        for (const t of both) console.log(yield* t.wait());
        server.close();
        console.log('done');
      });
      process.on('exit', (code) => console.log('exit ' + code));
    `);
    expect(r.stdout.trim().split('\n')).toEqual([
      'error EMFILE ERR_WORKER_INIT_FAILED true',
      'error EMFILE ERR_WORKER_INIT_FAILED true',
      'echo ping',
      'error EMFILE ERR_WORKER_INIT_FAILED true',
      'ok 42',
      'ok 2',
      'ok 4',
      'done',
      'exit 0',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!canLimitThreads)('fails the waiting greenthread with EAGAIN at a thread limit, and recovers once a thread is free (it hung for ever)', () => {
    const r = nodeVia('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'prlimit', '--nproc=24'], `
      const { Worker } = require('node:worker_threads');
      const { once } = require('node:events');
      const fs = require('node:fs');
      const { spawn, tpool, waitFor } = require('./dist');
      ${ADD}
      tpool.configure({ size: 1 });
      spawn(function* () {
        yield* waitFor(fs.promises.stat('/')); // libuv's own threads start now: at the limit, libuv aborts
        const held = []; // threads, until there are no more
        try {
          for (;;) held.push(new Worker('setInterval(() => {}, 1e6)', { eval: true }));
        } catch (e) {
          console.log('held ' + e.code + ' ' + e.message);
        }
        console.log(yield* add(1, 2).wait());
        console.log(yield* add(3, 4).wait());
        const w = held.pop();
        yield* waitFor(Promise.all([w.terminate(), once(w, 'exit')]));
        console.log(yield* add(20, 22).wait());
        for (const w of held) w.terminate();
      });
      process.on('exit', (code) => console.log('exit ' + code));
    `);
    expect(r.stdout.trim().split('\n')).toEqual([
      'held ERR_WORKER_INIT_FAILED EAGAIN',
      'error EAGAIN ERR_WORKER_INIT_FAILED true',
      'error EAGAIN ERR_WORKER_INIT_FAILED true',
      'ok 42',
      'exit 0',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
