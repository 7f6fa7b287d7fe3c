// withTimeout (lib/sync/timeout.ts)
import { describe, expect, it } from 'vitest';
import { TimeoutError, connect, getHub, listen, sleep, spawn, withTimeout } from '../lib';
import type { Green } from '../lib';
import { run } from './helpers/green';
import { connectedPair } from './helpers/net';

describe('withTimeout', () => {
  it('returns the result when op finishes in time, leaving no timer', async () => {
    const v = await run(function* () {
      return yield* withTimeout(1000, (function* () {
        yield* sleep(1);
        return 'in time';
      })());
    });
    expect(v).toBe('in time');
    expect(getHub().stats().timers).toBe(0);
  });

  it('throws TimeoutError into op at its suspension point; its finally runs', async () => {
    let cleaned = false;
    const r = await run(function* (): Green<string> {
      try {
        yield* withTimeout(5, (function* () {
          try {
            yield* sleep(10_000);
          } finally {
            cleaned = true;
          }
        })());
        return 'no timeout';
      } catch (e) {
        return e instanceof TimeoutError ? `timeout ${(e as TimeoutError).code}` : String(e);
      }
    });
    expect(r).toBe('timeout ETIMEDOUT');
    expect(cleaned).toBe(true);
  });

  it('around a socket recv that never gets data: TimeoutError, and the socket stays usable', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const r = await run(function* () {
      const [s, peer] = yield* connectedPair(server);
      let timedOut = false;
      try {
        yield* withTimeout(10, s.recv());
      } catch (e) {
        timedOut = e instanceof TimeoutError;
      }
      yield* peer.sendAll(Buffer.from('after'));
      const got = (yield* s.recv()).toString();
      s.close();
      peer.close();
      return { timedOut, got };
    });
    server.close();
    expect(r).toEqual({ timedOut: true, got: 'after' });
  });

  it('interrupts a loop that only yields with sleep(0)', async () => {
    const r = await run(function* (): Green<string> {
      let spins = 0;
      try {
        yield* withTimeout(20, (function* () {
          for (;;) {
            spins++;
            yield* sleep(0);
          }
        })());
        return 'never';
      } catch (e) {
        return e instanceof TimeoutError && spins > 0 ? 'timed out' : String(e);
      }
    });
    expect(r).toBe('timed out');
  });

  it('nests: the inner deadline fires first', async () => {
    const r = await run(function* (): Green<string> {
      try {
        yield* withTimeout(1000, withTimeout(5, sleep(10_000)));
        return 'none';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(r).toBe('operation timed out after 5 ms');
    expect(getHub().stats().timers).toBe(0);
  });

  it('rejects bad arguments', async () => {
    await run(function* () {
      expect(() => withTimeout(-1, sleep(0))).toThrow(RangeError);
      expect(() => withTimeout(5, (() => {}) as never)).toThrow(TypeError);
    });
  });
});
