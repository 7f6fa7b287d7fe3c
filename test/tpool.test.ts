// tpool (lib/hog/tpool.ts): real worker threads through piscina.
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, listen, sleep, spawn, tpool } from '../lib';
import type { Green } from '../lib';
import { closeTpool } from '../lib/hog/tpool';
import { node, run } from './helpers/green';

// The pool's idle threads would outlive the file (and its fd check) for a while.
afterAll(() => closeTpool());

const TASKS = path.join(__dirname, 'fixtures', 'cpu-tasks.js');

describe('tpool', () => {
  it('returns results, by path or file URL, and the default export', async () => {
    const r = await run(function* () {
      return [
        yield* tpool.execute<number>({ filename: TASKS, name: 'add' }, 2, 40),
        yield* tpool.execute<number>({ filename: pathToFileURL(TASKS) }, 1, 2),
        yield* tpool.execute<string>({ filename: pathToFileURL(TASKS).href, name: 'burn' }, 5, 'burnt'),
      ];
    });
    expect(r).toEqual([42, 3, 'burnt']);
  });

  it('rethrows a task\'s error in the waiting greenthread', async () => {
    const msg = await run(function* (): Green<string> {
      try {
        yield* tpool.execute({ filename: TASKS, name: 'fail' }, 'task failed');
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(msg).toBe('task failed');
  });

  it('drops a queued task when its greenthread is killed; a running one finishes unseen', async () => {
    tpool.configure({ size: 1 });
    try {
      const ran = new SharedArrayBuffer(8); // [0] the running task, [1] the queued one
      const r = await run(function* () {
        const running = spawn(function* () {
          return yield* tpool.execute({ filename: TASKS, name: 'mark' }, ran, 0, 200);
        });
        const queued = spawn(function* () {
          return yield* tpool.execute({ filename: TASKS, name: 'mark' }, ran, 1, 200);
        });
        while (Atomics.load(new Int32Array(ran), 0) === 0) yield* sleep(5); // the first one runs
        queued.kill();
        running.kill(); // already running: it finishes, its result discarded
        // The single thread takes the next task only after the first: the second was dropped.
        return yield* tpool.execute({ filename: TASKS, name: 'add' }, 1, 1);
      });
      expect(r).toBe(2);
      expect([...new Int32Array(ran)]).toEqual([1, 0]);
    } finally {
      tpool.configure({ size: 2 });
    }
  });

  it('keeps the hub serving a socket while 4 CPU tasks run', async () => {
    tpool.configure({ size: 2 });
    const server = listen({ port: 0 });
    const port = server.address().port;
    const r = await run(function* () {
      spawn(function* () {
        const c = yield* server.accept();
        for (;;) {
          const line = yield* c.readLine();
          if (line.length === 0) break;
          yield* c.sendAll(line);
        }
        c.close();
      });
      const tasks = [1, 2, 3, 4].map((i) => spawn(function* () {
        return yield* tpool.execute<number>({ filename: TASKS, name: 'burn' }, 300, i);
      }));
      yield* sleep(20);
      const s = yield* connect({ host: '127.0.0.1', port });
      let echoed = 0;
      for (let i = 0; i < 20; i++) {
        yield* s.sendAll(Buffer.from(`line ${i}\n`));
        if ((yield* s.readLine()).toString() === `line ${i}\n`) echoed++;
      }
      const pendingWhileEchoing = tpool.pending;
      s.close();
      const results: number[] = [];
      for (const t of tasks) results.push(yield* t.wait());
      return { echoed, pendingWhileEchoing, results };
    });
    server.close();
    expect(r.echoed).toBe(20);
    expect(r.pendingWhileEchoing).toBeGreaterThan(0);
    expect(r.results).toEqual([1, 2, 3, 4]);
  });

  it('rejects bad tasks, and never holds an idle process', () => {
    expect(() => tpool.execute({ filename: 'relative.js' })).toThrow(/absolute/);
    expect(() => tpool.execute(null as never)).toThrow(TypeError);
    expect(() => tpool.configure({ size: 0 })).toThrow(RangeError);
    const r = node(`
      const { spawn, tpool } = require('./dist');
      const t0 = Date.now();
      spawn(function* () { console.log(yield* tpool.execute({ filename: ${JSON.stringify(TASKS)}, name: 'add' }, 20, 22)); });
      process.on('exit', () => console.log('exited within 1.5 s: ' + (Date.now() - t0 < 1500)));
    `);
    expect(r.stdout.trim().split('\n')).toEqual(['42', 'exited within 1.5 s: true']);
  });
});
