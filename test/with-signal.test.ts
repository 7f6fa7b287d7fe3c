// withSignal (lib/sync/with-signal.ts)
import { describe, expect, it } from 'vitest';
import { connect, getHub, listen, sleep, spawn, withSignal } from '../lib';
import type { Green } from '../lib';
import { run } from './helpers/green';
import { connectedPair } from './helpers/net';

describe('withSignal', () => {
  it('aborts a sleep with the signal\'s reason, at its suspension point', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('stop sleeping')), 10);
    let cleaned = false;
    const msg = await run(function* (): Green<string> {
      try {
        yield* withSignal(ac.signal, (function* () {
          try {
            yield* sleep(10_000);
          } finally {
            cleaned = true;
          }
        })());
        return 'slept';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(msg).toBe('stop sleeping');
    expect(cleaned).toBe(true);
    expect(getHub().stats().timers).toBe(0);
  });

  it('aborts a recv and leaves the socket usable', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const r = await run(function* () {
      const [s, peer] = yield* connectedPair(server);
      const ac = new AbortController();
      spawn(function* () {
        yield* sleep(5);
        ac.abort(new Error('cancelled'));
      });
      let err = '';
      try {
        yield* withSignal(ac.signal, s.recv());
      } catch (e) {
        err = (e as Error).message;
      }
      yield* peer.sendAll(Buffer.from('still works'));
      const got = (yield* s.recv()).toString();
      s.close();
      peer.close();
      return { err, got };
    });
    server.close();
    expect(r).toEqual({ err: 'cancelled', got: 'still works' });
  });

  it('never starts op under an already-aborted signal; a signal that never aborts changes nothing', async () => {
    let started = false;
    const r = await run(function* () {
      const out: string[] = [];
      try {
        yield* withSignal(AbortSignal.abort(new Error('too late')), (function* () {
          started = true;
        })());
      } catch (e) {
        out.push((e as Error).message);
      }
      out.push(String(yield* withSignal(new AbortController().signal, (function* () {
        yield* sleep(1);
        return 42;
      })())));
      return out;
    });
    expect(r).toEqual(['too late', '42']);
    expect(started).toBe(false);
  });

  it('an abort raised by op itself does not outlive op', async () => {
    const r = await run(function* (): Green<string> {
      const ac = new AbortController();
      const v = yield* withSignal(ac.signal, (function* () {
        ac.abort(new Error('aborted inside op')); // op ends without suspending again
        return 'op returned';
      })());
      yield* sleep(1); // must not throw the abort
      return v;
    });
    expect(r).toBe('op returned');
  });

  it('rejects bad arguments', async () => {
    await run(function* () {
      expect(() => withSignal({} as never, sleep(0))).toThrow(TypeError);
      expect(() => withSignal(new AbortController().signal, 5 as never)).toThrow(TypeError);
    });
  });
});
