// Cancellation out to promise code: waitFor((signal) => promise) (lib/wait-for.ts) and
// current().signal (lib/hub/greenthread.ts), against a real HTTP server on loopback.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GreenletExit, TimeoutError, current, getHub, race, sleep, spawn, waitFor, withSignal, withTimeout } from '../lib';
import type { Green } from '../lib';
import { run } from './helpers/green';

/** Requests the server has seen, by path, and when each one's connection closed. */
const seen = new Map<string, { closed: Promise<void>; isClosed: () => boolean }>();
let server: http.Server;
let base = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let closed = false;
    const done = new Promise<void>((resolve) =>
      req.socket.once('close', () => {
        closed = true;
        resolve();
      }),
    );
    seen.set(req.url!, { closed: done, isClosed: () => closed });
    if (req.url!.startsWith('/hang')) return; // never answers
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
    res.end(`hello ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // fetch's first use loads and sets up undici: done here, so a test's request reaches the
  // server well within its deadline even on a loaded machine.
  await (await fetch(`${base}/warm-up`)).text();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Resolves once the server saw the request at path and its connection closed; false after ms. */
async function connectionClosed(path: string, ms = 2000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!seen.has(path) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const s = seen.get(path);
  if (s === undefined) return false;
  return Promise.race([s.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(s.isClosed()), Math.max(0, deadline - Date.now())))]);
}

describe('waitFor((signal) => promise)', () => {
  it('aborts a fetch under withTimeout: the server sees the connection close and TimeoutError is thrown', async () => {
    let signal: AbortSignal | undefined;
    const t0 = performance.now();
    const err = await run(function* (): Green<unknown> {
      try {
        yield* withTimeout(
          300, // long enough for the request to reach the server first, even on a loaded machine
          waitFor((s) => {
            signal = s;
            return fetch(`${base}/hang-timeout`, { signal: s });
          }),
        );
        return 'answered';
      } catch (e) {
        return e;
      }
    });
    expect(err).toBeInstanceOf(TimeoutError);
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBe(err); // the reason is the TimeoutError itself
    expect(await connectionClosed('/hang-timeout')).toBe(true);
  });

  it('aborts a race() loser\'s fetch with the loser\'s kill', async () => {
    let signal: AbortSignal | undefined;
    const winner = await run(function* (): Green<unknown> {
      return yield* race([
        waitFor((s) => {
          signal = s;
          return fetch(`${base}/hang-race`, { signal: s }).then(() => 'fetched');
        }),
        (function* () {
          yield* sleep(30);
          return 'slept';
        })(),
      ]);
    });
    expect(winner).toBe('slept');
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBeInstanceOf(GreenletExit);
    expect(await connectionClosed('/hang-race')).toBe(true);
  });

  it('aborts when the waiting greenthread is killed, or a withSignal around it aborts', async () => {
    const signals: AbortSignal[] = [];
    const victim = spawn(function* () {
      yield* waitFor((s) => {
        signals.push(s);
        return fetch(`${base}/hang-kill`, { signal: s });
      });
    });
    await run(function* () {
      yield* sleep(20);
      victim.kill();
    });
    await expect(Promise.resolve(victim)).rejects.toBeInstanceOf(GreenletExit);
    expect(signals[0].reason).toBeInstanceOf(GreenletExit);
    expect(await connectionClosed('/hang-kill')).toBe(true);

    const ac = new AbortController();
    const cut = new Error('client went away');
    setTimeout(() => ac.abort(cut), 20);
    const err = await run(function* (): Green<unknown> {
      try {
        yield* withSignal(ac.signal, waitFor((s) => {
          signals.push(s);
          return fetch(`${base}/hang-signal`, { signal: s });
        }));
      } catch (e) {
        return e;
      }
    });
    expect(err).toBe(cut);
    expect(signals[1].reason).toBe(cut);
    expect(await connectionClosed('/hang-signal')).toBe(true);
  });

  it('leaves the signal alone when the wait returns, starts the promise only when the wait runs, and throws what the function throws', async () => {
    const calls: string[] = [];
    const r = await run(function* () {
      let signal: AbortSignal | undefined;
      const op = waitFor(async (s) => {
        calls.push('called');
        signal = s;
        const res = await fetch(`${base}/answer`, { signal: s });
        return res.text();
      });
      calls.push('made');
      yield* sleep(1);
      const text = yield* withTimeout(5000, op);
      yield* sleep(10);
      let thrown: unknown;
      try {
        yield* waitFor(() => {
          throw new Error('sync throw');
        });
      } catch (e) {
        thrown = e;
      }
      return { text, aborted: signal!.aborted, thrown: (thrown as Error).message };
    });
    expect(calls).toEqual(['made', 'called']);
    expect(r).toEqual({ text: 'hello /answer', aborted: false, thrown: 'sync throw' });
    expect(getHub().stats().timers).toBe(0);
  });
});

describe('current().signal', () => {
  it('aborts a fetch in flight when the greenthread is killed', async () => {
    let signal: AbortSignal | undefined;
    const gt = spawn(function* () {
      signal = current()!.signal;
      yield* waitFor(fetch(`${base}/hang-gt`, { signal }));
    });
    await run(function* () {
      yield* sleep(20);
      expect(signal!.aborted).toBe(false);
      gt.kill();
    });
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBeInstanceOf(GreenletExit);
    expect(await connectionClosed('/hang-gt')).toBe(true);
  });

  it('is made once, aborts when the greenthread returns or throws, and is aborted already once it has ended', async () => {
    const reported: unknown[] = [];
    getHub().onError((e) => reported.push(e));
    try {
      const ok = spawn(function* () {
        const s = current()!.signal;
        expect(current()!.signal).toBe(s);
        yield* sleep(1);
        expect(s.aborted).toBe(false);
        return s;
      });
      const s1 = await ok;
      expect(s1.aborted).toBe(true);
      expect((s1.reason as DOMException).name).toBe('AbortError');

      const boom = new Error('boom');
      let s2: AbortSignal | undefined;
      const failing = spawn(function* () {
        s2 = current()!.signal;
        yield* sleep(1);
        throw boom;
      });
      await run(function* () {
        yield* sleep(10);
      });
      expect(failing.dead).toBe(true);
      expect(s2!.reason).toBe(boom);
      // The signal is not an observer: the error still went to the hub's error handler.
      expect(reported).toEqual([boom]);

      expect(ok.signal.aborted).toBe(true); // made after the end
      expect(ok.signal.reason).toBeInstanceOf(DOMException);
    } finally {
      getHub().onError(null);
    }
  });
});
