// Green I/O at its limits (lib/io/fd-stream.ts): buffers of 2 GiB and more, a throw at any
// step never leaves the reader or writer role taken, and no write ever raises SIGPIPE.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { getHub, listen, spawn } from '../lib';
import type { GreenServer, GreenSocket } from '../lib';
import { native } from '../lib/native';
import { node, run } from './helpers/green';
import { connectedPair } from './helpers/net';

let server: GreenServer;
beforeAll(() => {
  server = listen({ port: 0 });
});
afterAll(() => server.close());
afterEach(() => vi.restoreAllMocks());

/** A Buffer of 2 GiB + 64 bytes whose pages are only touched where written (sparse). */
function hugeBuffer(): Buffer {
  return Buffer.from(new ArrayBuffer(2 ** 31 + 64));
}

function injected(): Error {
  return new RangeError('injected');
}

describe('a throw at each step releases the role', () => {
  const steps: Array<{ step: string; inject: () => void; op: (a: GreenSocket) => Generator<unknown, unknown, unknown> }> = [
    { step: 'send', inject: () => vi.spyOn(native, 'send').mockImplementationOnce(() => { throw injected(); }), op: (a) => a.sendAll(Buffer.from('x')) as never },
    { step: 'sendmsg', inject: () => vi.spyOn(native, 'sendv').mockImplementationOnce(() => { throw injected(); }), op: (a) => a.sendAll([Buffer.alloc(3000), Buffer.alloc(3000)]) as never }, // > 4 KiB: the writev path
    { step: 'read', inject: () => vi.spyOn(native, 'read').mockImplementationOnce(() => { throw injected(); }), op: (a) => a.recv() as never },
    { step: 'park', inject: () => vi.spyOn(getHub().fds, 'park').mockImplementationOnce(() => { throw injected(); }), op: (a) => a.recv() as never },
  ];
  for (const { step, inject, op } of steps) {
    it(`at ${step}: the error reaches the caller, and the next call on the socket works`, async () => {
      const got = await run(function* () {
        const [a, b] = yield* connectedPair(server);
        try {
          inject();
          let first: string;
          try {
            yield* op(a);
            first = 'no error';
          } catch (e) {
            first = (e as Error).message;
          }
          vi.restoreAllMocks();
          yield* b.sendAll(Buffer.from('z'));
          yield* op(a); // "already has a reader/writer" if the role leaked
          return first;
        } finally {
          a.close();
          b.close();
        }
      });
      expect(got).toBe('injected');
    });
  }
});

describe('buffers of 2 GiB and more', () => {
  it('send() of a 2 GiB + 64 buffer returns a partial count, recvInto() fills one: no RangeError, no role left taken', async () => {
    const big = hugeBuffer();
    const got = await run(function* () {
      const [a, b] = yield* connectedPair(server);
      try {
        const sent = yield* a.send(big);
        yield* b.sendAll(Buffer.from('hello'));
        const n = yield* a.recvInto(big);
        // b drains what a sent, then one more byte: a's writer role must have been given back.
        const drainer = spawn(function* () {
          const buf = Buffer.alloc(1 << 20);
          let total = 0;
          let last = 0;
          while (total < sent + 1) {
            const k = yield* b.recvInto(buf);
            if (k === 0) break;
            total += k;
            last = buf[k - 1];
          }
          return String.fromCharCode(last);
        });
        yield* a.sendAll(Buffer.from('!'));
        const tail = yield* drainer.wait();
        return { sent: sent > 0 && sent < big.length, n, text: big.subarray(0, n).toString(), tail };
      } finally {
        a.close();
        b.close();
      }
    });
    expect(got).toEqual({ sent: true, n: 5, text: 'hello', tail: '!' });
  });
});

describe('no SIGPIPE, ever (child processes)', () => {
  // Adding and removing a 'SIGPIPE' listener puts SIGPIPE back to its default, which kills.
  const prelude = `
    const f = () => {}; process.on('SIGPIPE', f); process.off('SIGPIPE', f);
    const { connect, listen, pipe, spawn, sleep } = require('./dist');
  `;

  it('sendAll to a peer that closed is EPIPE or ECONNRESET, and the process lives', () => {
    const r = node(`${prelude}
      spawn(function* () {
        const server = listen({ port: 0 });
        const c = yield* connect({ host: '127.0.0.1', port: server.address().port });
        const s = yield* server.accept();
        s.close();
        yield* sleep(20);
        try {
          for (let i = 0; i < 10; i++) { yield* c.sendAll(Buffer.alloc(65536)); yield* sleep(5); }
          console.log('no error');
        } catch (e) { console.log(e.code); }
        c.close(); server.close();
      });
    `);
    expect(r.signal).toBeNull();
    expect(['EPIPE', 'ECONNRESET']).toContain(r.stdout.trim());
  });

  it('sendAll into a pipe whose reader closed is EPIPE, and the process lives', () => {
    const r = node(`${prelude}
      spawn(function* () {
        const [rd, wr] = pipe();
        rd.close();
        try { yield* wr.sendAll(Buffer.from('x')); console.log('no error'); } catch (e) { console.log(e.code); }
        try { yield* wr.sendAll([Buffer.from('x'), Buffer.from('y')]); console.log('no error'); } catch (e) { console.log(e.code); }
        wr.close();
      });
    `);
    expect(r.signal).toBeNull();
    expect(r.stdout.trim().split('\n')).toEqual(['EPIPE', 'EPIPE']);
  });
});

