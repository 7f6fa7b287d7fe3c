// Graceful server stop: GreenServer.shutdown({ timeoutMs }) (lib/io/server.ts, lib/io/serve.ts)
import { describe, expect, it } from 'vitest';
import { GreenletExit, connect, current, getHub, listen, serve, sleep, spawn } from '../lib';
import type { Green, GreenSocket, GreenThread } from '../lib';
import { run } from './helpers/green';

/** Connects, sends a line and returns what comes back before the server closes ('' if nothing). */
function* ask(port: number, line: string): Green<string> {
  const s = yield* connect({ host: '127.0.0.1', port });
  try {
    yield* s.sendAll(Buffer.from(line + '\n'));
    const chunks: Buffer[] = [];
    for (;;) {
      const b = yield* s.recv();
      if (b.length === 0) break;
      chunks.push(b);
    }
    return Buffer.concat(chunks).toString();
  } finally {
    s.close();
  }
}

/** A server whose handler reads a line "<ms>", works that long, then answers "done <ms>". */
function slowServer(log: string[], handlers: GreenThread[]) {
  const server = listen({ port: 0 });
  const port = server.address().port;
  const loop = spawn(() =>
    serve(server, function* worker(sock: GreenSocket) {
      handlers.push(current()!);
      const ms = Number((yield* sock.readLine()).toString());
      try {
        yield* sleep(ms);
        yield* sock.sendAll(Buffer.from(`done ${ms}`));
        log.push(`finished ${ms}`);
      } catch (e) {
        log.push(`${(e as Error).name} ${ms}`);
        throw e;
      } finally {
        yield* sleep(5); // a finally block that suspends is waited for
        log.push(`finally ${ms}`);
      }
    }),
  );
  return { server, port, loop };
}

describe('GreenServer.shutdown', () => {
  it('lets handlers that finish within the deadline finish normally, and returns when they have', async () => {
    const log: string[] = [];
    const handlers: GreenThread[] = [];
    const { server, port, loop } = slowServer(log, handlers);
    const r = await run(function* () {
      const clients = [spawn(ask, port, '30'), spawn(ask, port, '60')];
      while (handlers.length < 2) yield* sleep(1);
      yield* sleep(5); // both are inside their work
      const t0 = performance.now();
      yield* server.shutdown({ timeoutMs: 2000 });
      const took = performance.now() - t0;
      return { took, answers: [yield* clients[0].wait(), yield* clients[1].wait()], dead: handlers.map((g) => g.dead) };
    });
    expect(r.answers).toEqual(['done 30', 'done 60']);
    expect(log.sort()).toEqual(['finally 30', 'finally 60', 'finished 30', 'finished 60']);
    expect(r.dead).toEqual([true, true]);
    expect(r.took).toBeLessThan(1000); // it did not sit out the deadline
    expect(server.closed).toBe(true);
    await loop; // serve() ended cleanly
  });

  it('kills the handlers still running at the deadline; their finally blocks run before it returns', async () => {
    const log: string[] = [];
    const handlers: GreenThread[] = [];
    const { server, port, loop } = slowServer(log, handlers);
    const r = await run(function* () {
      const clients = [spawn(ask, port, '10'), spawn(ask, port, '60000')];
      while (handlers.length < 2) yield* sleep(1);
      const t0 = performance.now();
      yield* server.shutdown({ timeoutMs: 80 });
      const took = performance.now() - t0;
      const logAtReturn = [...log];
      const errors: string[] = [];
      for (const h of handlers) {
        try {
          yield* h.wait();
          errors.push('returned');
        } catch (e) {
          errors.push((e as Error).name);
        }
      }
      return { took, logAtReturn, answers: [yield* clients[0].wait(), yield* clients[1].wait()], dead: handlers.map((g) => g.dead), errors };
    });
    expect(r.took).toBeGreaterThanOrEqual(75);
    expect(r.took).toBeLessThan(2000);
    // Everything had happened by the time shutdown() returned, the suspending finally included.
    expect(r.logAtReturn.sort()).toEqual(['GreenletExit 60000', 'finally 10', 'finally 60000', 'finished 10']);
    expect(r.dead).toEqual([true, true]);
    // The killed handler ends with the kill (serve() does not report it: it is not a bug).
    expect(r.errors).toEqual(['returned', 'GreenletExit']);
    expect(r.answers).toEqual(['done 10', '']); // the killed one's socket was closed
    await loop;
  });

  it('accepts no new connection once called, while it waits', async () => {
    const log: string[] = [];
    const handlers: GreenThread[] = [];
    const { server, port, loop } = slowServer(log, handlers);
    const r = await run(function* () {
      const first = spawn(ask, port, '300');
      while (handlers.length < 1) yield* sleep(1);
      const stopping = spawn(() => server.shutdown({ timeoutMs: 5000 }));
      yield* sleep(10); // shutdown() is waiting for the first handler
      let refused: unknown;
      try {
        yield* ask(port, '1');
      } catch (e) {
        refused = e;
      }
      const stillWaiting = !stopping.dead;
      yield* stopping.wait();
      return { refused, stillWaiting, first: yield* first.wait(), handlers: handlers.length };
    });
    expect(r.stillWaiting).toBe(true);
    expect(r.refused).toMatchObject({ code: 'ECONNREFUSED' });
    expect(r.first).toBe('done 300');
    expect(r.handlers).toBe(1); // the refused client never got a handler
    expect(log).toEqual(['finished 300', 'finally 300']);
    await loop;
  });

  it('kills at once with timeoutMs: 0, and a handler that calls it is neither waited for nor killed', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const log: string[] = [];
    let n = 0;
    const loop = spawn(() =>
      serve(server, function* (sock: GreenSocket) {
        const me = ++n;
        yield* sock.readLine();
        try {
          if (me === 2) {
            yield* server.shutdown({ timeoutMs: 0 }); // "stop" sent by an admin connection
            log.push('stopper carried on');
            yield* sock.sendAll(Buffer.from('stopped'));
          } else {
            yield* sleep(60_000);
          }
        } catch (e) {
          log.push(`${me}: ${(e as Error).name}`);
        }
      }),
    );
    const answers = await run(function* () {
      const idle = spawn(ask, port, 'idle');
      while (n < 1) yield* sleep(1);
      const admin = spawn(ask, port, 'stop');
      return [yield* idle.wait(), yield* admin.wait()];
    });
    expect(answers).toEqual(['', 'stopped']);
    expect(log).toEqual(['1: GreenletExit', 'stopper carried on']);
    await loop;
  });

  it('works from async code through a greenthread, with nothing to wait for, and checks its options', async () => {
    const server = listen({ port: 0 });
    const loop = spawn(() => serve(server, function* () {}));
    await spawn(() => server.shutdown());
    expect(server.closed).toBe(true);
    await loop;
    expect(() => server.shutdown()).toThrow(/inside a greenthread/);
    await run(function* () {
      expect(() => server.shutdown({ timeoutMS: 5 } as never)).toThrow(/unknown option/);
      expect(() => server.shutdown({ timeoutMs: -1 })).toThrow(RangeError);
      yield* server.shutdown({ timeoutMs: Infinity }); // already closed, no handler: at once
    });
    expect(getHub().stats().timers).toBe(0);
  });

  it('a handler killed by shutdown() sees GreenletExit at its suspension point', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    let seen: unknown;
    const loop = spawn(() =>
      serve(server, function* (sock: GreenSocket) {
        try {
          yield* sock.recv();
        } catch (e) {
          seen = e;
          throw e;
        }
      }),
    );
    await run(function* () {
      const c = yield* connect({ host: '127.0.0.1', port });
      yield* sleep(10);
      yield* server.shutdown({ timeoutMs: 10 });
      c.close();
    });
    expect(seen).toBeInstanceOf(GreenletExit);
    await loop;
  });
});
