// Mistakes generators make easy are loud (lib/operation.ts, lib/hub/introspect.ts): a blocking
// call outside a greenthread fails at the call, `await op` fails, `yield op` without the star
// names the operation's site and never spins the hub, spawn(work()) says how to write it, and
// in debug mode an operation that is never run is reported with where it was made.
import { afterEach, describe, expect, it } from 'vitest';
import { GreenSocket, Queue, getHub, listen, sleep, spawn, waitFor } from '../lib';
import type { Green } from '../lib';
import { node, run } from './helpers/green';
import { connectedPair } from './helpers/net';

afterEach(() => getHub().onError(null));

describe('blocking calls outside a greenthread', () => {
  it('fail at the call, naming it and saying what to do instead', async () => {
    const server = listen({ port: 0 });
    const [a, b] = await run(function* () {
      return yield* connectedPair(server);
    });
    const calls: Array<[string, () => unknown]> = [
      ['recv()', () => a.recv(10)],
      ['recvInto()', () => a.recvInto(Buffer.alloc(4))],
      ['readLine()', () => a.readLine()],
      ['readExactly()', () => a.readExactly(2)],
      ['sendAll()', () => a.sendAll(Buffer.from('x'))],
      ['send()', () => a.send(Buffer.from('x'))],
      ['Queue.get()', () => new Queue().get()],
      ['sleep()', () => sleep(5)],
    ];
    for (const [name, call] of calls) {
      expect(call, name).toThrow(`${name} blocks, so it must run inside a greenthread (spawn one and use yield*); from async code, await a greenthread instead`);
    }
    a.close();
    b.close();
    server.close();
  });

  it('`await op` of an operation made inside a greenthread rejects with the teaching message', async () => {
    const got = await run(function* (): Green<string> {
      // An async helper runs synchronously until its first await: sleep(5) is made in the
      // greenthread, then awaited like a promise.
      return yield* waitFor((async () => {
        try {
          await (sleep(5) as unknown as Promise<void>);
          return 'awaited an operation (must not happen)';
        } catch (e) {
          return (e as Error).message;
        }
      })());
    });
    expect(got).toMatch(/^an operation is not a promise: run it with `yield\* op` inside a greenthread/);
  });

  it('a GreenThread keeps its real then: `await gt` gives its result', async () => {
    expect(await spawn(function* () {
      yield* sleep(1);
      return 42;
    })).toBe(42);
  });
});

describe('`yield op` without the star', () => {
  it('is a TypeError thrown at the bad yield; a catch-all loop around it ends instead of spinning the hub', async () => {
    const gt = spawn(function* () {
      for (let i = 0; i < 1_000_000; i++) {
        try {
          yield sleep(1) as never; // the star forgotten, and every error swallowed
        } catch {
          /* a catch-all */
        }
      }
      return 'looped (must not happen)';
    });
    const outcome = await Promise.resolve(gt).then(
      (v) => v,
      (e: Error) => `${e.name}: ${e.message}`,
    );
    expect(outcome).toMatch(/^TypeError: a greenthread yielded .*: write `yield\* op` \(with the star\) to run a greenhub operation \(run with GREENHUB_DEBUG=1 to see where it was created\)$/);
  });

  it('in debug mode names the line where the operation was made, as the first frame of its stack', () => {
    const r = node(`
      process.env.GREENHUB_DEBUG = '1';
      const { spawn, sleep, getHub } = require('./dist');
      getHub().debug = true;
      spawn(function* () {
        yield sleep(1); // line 6
      }).then(null, (e) => console.log(JSON.stringify({ message: e.message, frame: e.stack.split('\\n')[1].trim() })));
    `);
    const got = JSON.parse(r.stdout) as { message: string; frame: string };
    expect(got.message).toMatch(/\(the operation was created at \[eval\]:6:\d+\)$/);
    expect(got.frame).toMatch(/^at \[eval\]:6:\d+$/);
  });
});

describe('spawn(work()) — a generator object instead of a function', () => {
  it('says what was passed and how to write it', () => {
    function* work(n: number): Green<number> {
      return n;
    }
    expect(() => spawn(work(1) as never)).toThrow(
      'spawn needs a function to call, got a generator object that is already an operation (a generator object?): write spawn(work, arg) or spawn(() => work(arg)), not spawn(work(arg))',
    );
  });
});

describe('an operation that is never run (a forgotten yield*)', () => {
  const script = (debug: boolean) => `
    ${debug ? "process.env.GREENHUB_DEBUG = '1';" : ''}
    const { spawn, sleep } = require('./dist');
    spawn(function* () {
      sleep(5); // line 5: the star and the yield forgotten
      yield* sleep(1);
    }).then(() => {
      // The forgotten operation is garbage now: collect it, and let the report run.
      for (let i = 0; i < 3; i++) global.gc();
      setTimeout(() => global.gc(), 10);
    });
  `;

  it('is reported in debug mode with the file:line where it was made', () => {
    const r = node(`require('v8').setFlagsFromString('--expose-gc'); global.gc = require('vm').runInNewContext('gc'); ${script(true)}`);
    expect(r.stderr).toMatch(/greenhub warning: sleep\(\) created at \[eval\]:\d+:\d+ was never run: write `yield\* sleep\(…\)` \(with the star\) to run it/);
  });

  it('costs nothing and says nothing with debug mode off', () => {
    const r = node(`require('v8').setFlagsFromString('--expose-gc'); global.gc = require('vm').runInNewContext('gc'); ${script(false)}`);
    expect(r.stderr).toBe('');
  });
});

void GreenSocket;
