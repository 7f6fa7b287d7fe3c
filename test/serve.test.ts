// serve (lib/io/serve.ts)
import { describe, expect, it } from 'vitest';
import { connect, current, getHub, listen, serve, sleep, spawn } from '../lib';
import type { Green, GreenSocket } from '../lib';
import { run } from './helpers/green';

function* ask(port: number, line: string): Green<string> {
  const s = yield* connect({ host: '127.0.0.1', port });
  try {
    yield* s.sendAll(Buffer.from(line + '\n'));
    return (yield* s.readLine()).toString();
  } finally {
    s.close();
  }
}

describe('serve', () => {
  it('handles each connection in its own greenthread and closes its socket when the handler returns', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const sockets: GreenSocket[] = [];
    const loop = spawn(() =>
      serve(server, function* upper(sock: GreenSocket) {
        sockets.push(sock);
        const line = yield* sock.readLine();
        yield* sock.sendAll(Buffer.from(line.toString().toUpperCase()));
      }),
    );
    const answers = await run(function* () {
      const gts = ['a', 'b', 'c'].map((x) => spawn(ask, port, x));
      const out: string[] = [];
      for (const g of gts) out.push(yield* g.wait());
      return out;
    });
    expect(answers).toEqual(['A\n', 'B\n', 'C\n']);
    expect(sockets.every((s) => s.closed)).toBe(true);
    server.close();
    await loop; // ends cleanly at close()
  });

  it('reports an error in one handler and keeps serving', async () => {
    const seen: string[] = [];
    getHub().onError((e, gt) => seen.push(`${gt.name}: ${(e as Error).message}`));
    try {
      const server = listen({ port: 0 });
      const port = server.address().port;
      const loop = spawn(() =>
        serve(server, function* picky(sock: GreenSocket) {
          const line = (yield* sock.readLine()).toString();
          if (line.startsWith('bad')) throw new Error('bad request');
          yield* sock.sendAll(Buffer.from('ok\n'));
        }),
      );
      const answers = await run(function* () {
        const bad = yield* spawn(ask, port, 'bad').wait();
        const good = yield* spawn(ask, port, 'good').wait();
        return [bad, good];
      });
      expect(answers).toEqual(['', 'ok\n']); // the failed handler's socket was closed
      expect(seen).toEqual(['picky: bad request']);
      server.close();
      await loop;
    } finally {
      getHub().onError(null);
    }
  });

  it('reports a handler error once even when the handler links its own greenthread', async () => {
    const seen: string[] = [];
    getHub().onError((e) => seen.push((e as Error).message));
    try {
      const server = listen({ port: 0 });
      const port = server.address().port;
      const loop = spawn(() =>
        serve(server, function* linked(sock: GreenSocket) {
          current()!.link(() => {}); // an observer of its own: serve() still reports the error
          yield* sock.readLine(); // (closing with the line unread would reset the client)
          throw new Error('handler failed');
        }),
      );
      const answer = await run(function* () {
        return yield* spawn(ask, port, 'x').wait();
      });
      await new Promise((r) => setTimeout(r, 20));
      expect(answer).toBe('');
      expect(seen).toEqual(['handler failed']);
      server.close();
      await loop;
    } finally {
      getHub().onError(null);
    }
  });

  it('refuses an async handler at the call, before taking any connection', () => {
    const server = listen({ port: 0 });
    try {
      expect(() => serve(server, (async function handler() {}) as never)).toThrow(/cannot run an async function \(handler\)/);
    } finally {
      server.close();
    }
  });

  it('does not report a peer that resets the connection', async () => {
    const seen: string[] = [];
    getHub().onError((e) => seen.push((e as Error).message));
    try {
      const server = listen({ port: 0 });
      const port = server.address().port;
      const done = new Promise<string>((resolve) => {
        spawn(() =>
          serve(server, function* reader(sock: GreenSocket) {
            try {
              for (;;) if ((yield* sock.recv()).length === 0) break;
            } catch (e) {
              resolve((e as { code: string }).code);
              throw e;
            }
          }),
        );
      });
      const net = await import('node:net');
      await new Promise<void>((resolve) => {
        const c = net.connect({ host: '127.0.0.1', port }, () => {
          c.write('x');
          setTimeout(() => {
            c.resetAndDestroy();
            resolve();
          }, 20);
        });
      });
      expect(await done).toBe('ECONNRESET');
      await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual([]);
      server.close();
    } finally {
      getHub().onError(null);
    }
  });

  it('runs at most `concurrency` handlers at once', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    let active = 0;
    let peak = 0;
    const loop = spawn(() =>
      serve(
        server,
        function* slow(sock: GreenSocket) {
          active++;
          peak = Math.max(peak, active);
          yield* sleep(10);
          yield* sock.sendAll(Buffer.from('done\n'));
          active--;
        },
        { concurrency: 3 },
      ),
    );
    const answers = await run(function* () {
      const gts = Array.from({ length: 10 }, (_, i) => spawn(ask, port, String(i)));
      const out: string[] = [];
      for (const g of gts) out.push(yield* g.wait());
      return out;
    });
    expect(answers.every((a) => a === 'done\n')).toBe(true);
    expect(peak).toBe(3);
    server.close();
    await loop;
  });

  it('ends at close() even while parked at its concurrency limit, and closes killed handlers\' sockets', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const seen: unknown[] = [];
    getHub().onError((e) => seen.push(e));
    try {
      const handlers: GreenSocket[] = [];
      const loop = spawn(() =>
        serve(server, function* hold(sock: GreenSocket) {
          handlers.push(sock);
          yield* sleep(10_000);
        }, { concurrency: 1 }),
      );
      const clients = await run(function* () {
        const a = yield* connect({ host: '127.0.0.1', port });
        const b = yield* connect({ host: '127.0.0.1', port }); // waits in the backlog: the loop is at its limit
        yield* sleep(20);
        return [a, b];
      });
      server.close(); // must wake the parked loop
      await loop;
      expect(handlers).toHaveLength(1);
      getHub().killAll(); // kills the handler: its socket closes, nothing is reported
      await new Promise((r) => setTimeout(r, 10));
      expect(handlers[0].closed).toBe(true);
      expect(seen).toEqual([]);
      for (const c of clients) c.close();
    } finally {
      getHub().onError(null);
    }
  });

  it('rejects a bad handler or concurrency', async () => {
    const server = listen({ port: 0 });
    await run(function* () {
      expect(() => serve(server, 5 as never)).toThrow(TypeError);
      expect(() => serve(server, function* () {}, { concurrency: 0 })).toThrow(RangeError);
    });
    server.close();
  });
});
