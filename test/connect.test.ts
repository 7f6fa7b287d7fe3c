// connect() (lib/io/connect.ts): trying each address of a host name in turn must not swallow a
// kill, a timeout or a race() cancellation, and a half-made socket is closed at once.
import dns from 'node:dns';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GreenletExit, TimeoutError, connect, listen, race, sleep, spawn } from '../lib';
import type { Green, GreenServer, GreenSocket } from '../lib';
import { run } from './helpers/green';

afterEach(() => vi.restoreAllMocks());

/**
 * A port where 127.0.0.1 never completes a handshake (its backlog is full) and 127.0.0.2
 * accepts at once, and a host name that resolves to both, in that order.
 */
function* hangingThenOpen(): Green<{ port: number; open: GreenServer; cleanup: () => void }> {
  const full = listen({ host: '127.0.0.1', port: 0, backlog: 0 });
  const port = full.address().port;
  const open = listen({ host: '127.0.0.2', port });
  const held: GreenSocket[] = [];
  for (;;) {
    try {
      held.push(yield* connect({ host: '127.0.0.1', port }, { timeoutMs: 50 }));
    } catch (e) {
      if (e instanceof TimeoutError) break;
      throw e;
    }
  }
  const lookup = dns.promises.lookup;
  vi.spyOn(dns.promises, 'lookup').mockImplementation(((host: string, opts: unknown) =>
    host === 'two-addresses.test'
      ? Promise.resolve([{ address: '127.0.0.1', family: 4 }, { address: '127.0.0.2', family: 4 }])
      : lookup(host, opts as never)) as never);
  return {
    port,
    open,
    cleanup: () => {
      for (const s of held) s.close();
      full.close();
      open.close();
    },
  };
}

/** Whether `server` gets a connection within ms. */
function* accepts(server: GreenServer, ms: number): Green<boolean> {
  try {
    (yield* server.accept({ timeoutMs: ms })).close();
    return true;
  } catch (e) {
    if (e instanceof TimeoutError) return false;
    throw e;
  }
}

describe('connect to a host name with several addresses', () => {
  it('is killed at once while the first address hangs: no later address is tried', async () => {
    const got = await run(function* () {
      const { port, open, cleanup } = yield* hangingThenOpen();
      try {
        const connector = spawn(function* () {
          return yield* connect({ host: 'two-addresses.test', port });
        });
        yield* sleep(30);
        connector.kill();
        let outcome: string;
        try {
          (yield* connector.wait()).close();
          outcome = 'connected (must not happen)';
        } catch (e) {
          outcome = e instanceof GreenletExit ? 'GreenletExit' : String(e);
        }
        return { outcome, secondAddressTried: yield* accepts(open, 100) };
      } finally {
        cleanup();
      }
    });
    expect(got).toEqual({ outcome: 'GreenletExit', secondAddressTried: false });
  });

  it('loses a race() without connecting anywhere or leaving a socket open', async () => {
    const got = await run(function* () {
      const { port, open, cleanup } = yield* hangingThenOpen();
      try {
        const winner = yield* race([connect({ host: 'two-addresses.test', port }), sleep(30)]);
        return { winner: winner === undefined ? 'sleep' : 'connect', secondAddressTried: yield* accepts(open, 100) };
      } finally {
        cleanup();
      }
    });
    expect(got).toEqual({ winner: 'sleep', secondAddressTried: false });
  });

  it('still goes on to the next address when one refuses', async () => {
    const got = await run(function* () {
      const { port, open, cleanup } = yield* hangingThenOpen();
      try {
        vi.spyOn(dns.promises, 'lookup').mockImplementation((() =>
          Promise.resolve([{ address: '127.0.0.3', family: 4 }, { address: '127.0.0.2', family: 4 }])) as never);
        const peer = spawn(function* () {
          return yield* open.accept();
        });
        const sock = yield* connect({ host: 'refused-then-open.test', port });
        const address = sock.remoteAddress;
        sock.close();
        (yield* peer.wait()).close();
        return address;
      } finally {
        cleanup();
      }
    });
    expect(got).toBe('127.0.0.2');
  });
});
