// Green sockets end to end: listen, accept, connect, GreenSocket (lib/io/socket.ts, lib/io/server.ts,
// lib/io/connect.ts), on real sockets on 127.0.0.1 and ::1.
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { GreenSocket, TimeoutError, connect, getHub, listen, sleep, spawn } from '../lib';
import type { Green } from '../lib';
import { run } from './helpers/green';
import { connectedPair, logSize, payload, sha } from './helpers/net';

function* echo(sock: GreenSocket): Green<void> {
  const buf = Buffer.allocUnsafe(64 * 1024);
  try {
    for (;;) {
      const n = yield* sock.recvInto(buf);
      if (n === 0) break;
      yield* sock.sendAll(buf.subarray(0, n));
    }
  } finally {
    sock.close();
  }
}

/** A greenhub echo server; returns its port and a stop function. */
function echoServer(host = '127.0.0.1'): { port: number; stop: () => void } {
  const server = listen({ host, port: 0 });
  const acceptor = spawn(function* () {
    for (;;) spawn(echo, yield* server.accept());
  });
  return {
    port: server.address().port,
    stop: () => {
      server.close();
      acceptor.kill();
    },
  };
}

/** Sends data and reads the same number of bytes back (concurrently, so neither side stalls). */
function* roundTrip(sock: GreenSocket, data: Buffer): Green<Buffer> {
  const writer = spawn(function* () {
    yield* sock.sendAll(data);
  });
  const back = yield* sock.readExactly(data.length);
  yield* writer.wait();
  return back;
}

describe('echo', () => {
  it('200 greenthread clients exchange payloads of 1 byte to 1 MiB with a greenhub server: every byte, in order', async () => {
    const { port, stop } = echoServer();
    const n = 200;
    const clients = Array.from({ length: n }, (_, i) =>
      spawn(function* (): Green<boolean> {
        const data = payload(logSize(i, n));
        const sock = yield* connect({ host: '127.0.0.1', port });
        const back = yield* roundTrip(sock, data);
        sock.close();
        return sha(back) === sha(data);
      }),
    );
    const ok = await Promise.all(clients);
    stop();
    expect(ok.every(Boolean)).toBe(true);
  });

  it('Node net clients against the greenhub server', async () => {
    const { port, stop } = echoServer();
    const n = 50;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const data = payload(logSize(i, n));
        return new Promise<boolean>((resolve, reject) => {
          const chunks: Buffer[] = [];
          let got = 0;
          const s = net.connect({ host: '127.0.0.1', port }, () => s.end(data));
          s.on('data', (d: Buffer) => {
            chunks.push(d);
            got += d.length;
          });
          s.on('end', () => resolve(got === data.length && sha(Buffer.concat(chunks)) === sha(data)));
          s.on('error', reject);
        });
      }),
    );
    stop();
    expect(results.every(Boolean)).toBe(true);
  });

  it('greenhub clients against a Node net server', async () => {
    const server = net.createServer((s) => s.pipe(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const n = 50;
    const ok = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        spawn(function* (): Green<boolean> {
          const data = payload(logSize(i, n));
          const sock = yield* connect({ host: '127.0.0.1', port });
          const back = yield* roundTrip(sock, data);
          sock.close();
          return sha(back) === sha(data);
        }),
      ),
    );
    await new Promise((r) => server.close(r));
    expect(ok.every(Boolean)).toBe(true);
  });

  it('works over IPv6 (::1), with addresses reported', async () => {
    const { port, stop } = echoServer('::1');
    const info = await run(function* () {
      const sock = yield* connect({ host: '::1', port });
      const back = yield* roundTrip(sock, Buffer.from('over v6'));
      const out = { back: back.toString(), remote: sock.remoteAddress, family: sock.remoteFamily, remotePort: sock.remotePort, local: sock.localAddress };
      sock.close();
      return out;
    });
    stop();
    expect(info).toEqual({ back: 'over v6', remote: '::1', family: 'IPv6', remotePort: port, local: '::1' });
  });
});

describe('sendAll', () => {
  it('writes an array of buffers in order with writev, and counts bytes both ways', async () => {
    const { port, stop } = echoServer();
    const parts = [Buffer.from('a'), Buffer.alloc(0), payload(300_000), Buffer.from('z')];
    const total = parts.reduce((s, b) => s + b.length, 0);
    const r = await run(function* () {
      const sock = yield* connect({ port, host: '127.0.0.1' });
      const writer = spawn(function* () {
        yield* sock.sendAll(parts);
      });
      const back = yield* sock.readExactly(total);
      yield* writer.wait();
      const out = { same: back.equals(Buffer.concat(parts)), read: sock.bytesRead, written: sock.bytesWritten };
      sock.close();
      return out;
    });
    stop();
    expect(r).toEqual({ same: true, read: total, written: total });
  });

  it('writes a small array (copied into one write, up to 4 KiB in all) in order, at and just past the bound', async () => {
    const { port, stop } = echoServer();
    const small = [Buffer.from('head\r\n'), Buffer.alloc(0), new Uint8Array([0x61, 0x62]), payload(4096 - 8)]; // 4096 in all
    const large = [...small, Buffer.from('!')]; // 4097: the writev path
    const r = await run(function* () {
      const sock = yield* connect({ port, host: '127.0.0.1' });
      const out: boolean[] = [];
      for (const parts of [small, large]) {
        const total = parts.reduce((n, b) => n + b.length, 0);
        yield* sock.sendAll(parts);
        out.push((yield* sock.readExactly(total)).equals(Buffer.concat(parts)));
      }
      const written = sock.bytesWritten;
      sock.close();
      return { out, written };
    });
    stop();
    expect(r).toEqual({ out: [true, true], written: 4096 + 4097 });
  });

  it('completes 64 MiB to a slow reader without growing memory by more than the payload', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const size = 64 << 20;
    const data = Buffer.alloc(size, 1);
    const before = process.memoryUsage().rss;
    let peak = before;
    const reader = spawn(function* (): Green<number> {
      const conn = yield* server.accept();
      const buf = Buffer.allocUnsafe(256 * 1024);
      let got = 0;
      for (;;) {
        const n = yield* conn.recvInto(buf);
        if (n === 0) break;
        got += n;
        if (got % (4 << 20) < n) {
          peak = Math.max(peak, process.memoryUsage().rss);
          yield* sleep(1); // a slow reader
        }
      }
      conn.close();
      return got;
    });
    const writer = spawn(function* () {
      const sock = yield* connect({ port, host: '127.0.0.1' });
      yield* sock.sendAll(data);
      sock.close();
    });
    await writer;
    const got = await reader;
    server.close();
    expect(got).toBe(size);
    expect(peak - before).toBeLessThan(size);
  });
});

describe('sendAll of many buffers', () => {
  it('writes 2,000 buffers (more than IOV_MAX per writev) completely and in order', async () => {
    const server = listen({ port: 0 });
    const r = await run(function* () {
      const [c, peer] = yield* connectedPair(server);
      const parts = Array.from({ length: 2000 }, (_, i) => Buffer.from(`${i},`));
      const total = parts.reduce((n, b) => n + b.length, 0);
      const writer = spawn(function* () {
        yield* c.sendAll(parts);
      });
      const got = (yield* peer.readExactly(total)).toString();
      yield* writer.wait();
      c.close();
      peer.close();
      return got === parts.map((b) => b.toString()).join('');
    });
    server.close();
    expect(r).toBe(true);
  });
});

describe('buffered reads', () => {
  it('readLine, readUntil and readExactly across chunk boundaries, mixed with recv', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const feeder = spawn(function* () {
      const conn = yield* server.accept();
      const text = 'line one\nline two\r\n\r\nHEAD';
      for (const ch of text) {
        yield* conn.sendAll(Buffer.from(ch)); // one byte at a time: every boundary
        yield* sleep(0);
      }
      yield* conn.sendAll(Buffer.from([0, 0, 0, 5, 104, 101, 108, 108, 111, 33]));
      yield* conn.sendAll(Buffer.from('tail without newline'));
      conn.close();
    });
    const got = await run(function* (): Green<string[]> {
      const s = yield* connect({ port, host: '127.0.0.1' });
      const out: string[] = [];
      out.push((yield* s.readLine()).toString());
      out.push((yield* s.readUntil('\r\n\r\n')).toString());
      out.push((yield* s.readExactly(4)).toString());
      const len = (yield* s.readExactly(4)).readUInt32BE(0);
      out.push((yield* s.readExactly(len)).toString());
      out.push((yield* s.recv(1)).toString());
      out.push((yield* s.readLine()).toString()); // end of stream: the rest, no newline
      out.push(String((yield* s.readLine()).length)); // then empty
      s.close();
      return out;
    });
    await feeder;
    server.close();
    expect(got).toEqual(['line one\n', 'line two\r\n\r\n', 'HEAD', 'hello', '!', 'tail without newline', '0']);
  });

  it('readExactly fails at end of stream with ERR_END_OF_STREAM; readUntil stops at maxBytes', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    spawn(function* () {
      const conn = yield* server.accept();
      yield* conn.sendAll(Buffer.from('abc'));
      conn.close();
    });
    const codes = await run(function* (): Green<string[]> {
      const s = yield* connect({ port, host: '127.0.0.1' });
      const out: string[] = [];
      try {
        yield* s.readUntil('\n', { maxBytes: 2 });
      } catch (e) {
        out.push((e as { code: string }).code);
      }
      try {
        yield* s.readExactly(10);
      } catch (e) {
        out.push((e as { code: string }).code);
      }
      s.close();
      return out;
    });
    server.close();
    expect(codes).toEqual(['ERR_LINE_TOO_LONG', 'ERR_END_OF_STREAM']);
  });
});

describe('connections ending', () => {
  it('half-close: shutdown("write") sends end of stream and the answer still arrives', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    spawn(function* () {
      const conn = yield* server.accept();
      const chunks: Buffer[] = [];
      for (;;) {
        const d = yield* conn.recv();
        if (d.length === 0) break;
        chunks.push(d);
      }
      yield* conn.sendAll(Buffer.from(`got ${Buffer.concat(chunks).length} bytes`));
      conn.close();
    });
    const answer = await run(function* () {
      const s = yield* connect({ port, host: '127.0.0.1' });
      yield* s.sendAll(Buffer.alloc(100_000, 2));
      s.shutdown('write');
      const a = (yield* s.readUntil('!')).toString();
      s.close();
      return a;
    });
    server.close();
    expect(answer).toBe('got 100000 bytes');
  });

  it('a peer reset mid-stream gives ECONNRESET or end of stream, never a hang', async () => {
    const server = net.createServer((s) => {
      s.write(Buffer.alloc(1000, 1));
      setTimeout(() => s.resetAndDestroy(), 20);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const outcome = await run(function* (): Green<string> {
      const s = yield* connect({ port, host: '127.0.0.1' });
      try {
        for (;;) {
          const d = yield* s.recv();
          if (d.length === 0) return 'end';
        }
      } catch (e) {
        const err = e as { code: string; syscall: string; errno: number };
        return `${err.code} ${err.syscall} ${err.errno}`;
      } finally {
        s.close();
      }
    });
    await new Promise((r) => server.close(r));
    // Linux reports the RST to a reader as ECONNRESET (end of stream would be acceptable too,
    // a hang never): pin what this kernel does.
    expect(outcome).toBe('ECONNRESET read -104');
  });

  it('writing to a reset peer is EPIPE or ECONNRESET, never a SIGPIPE death', async () => {
    const server = net.createServer((s) => s.resetAndDestroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const code = await run(function* (): Green<string> {
      const s = yield* connect({ port, host: '127.0.0.1' });
      yield* sleep(20);
      try {
        for (let i = 0; i < 100; i++) yield* s.sendAll(Buffer.alloc(65536));
        return 'no error';
      } catch (e) {
        return (e as { code: string }).code;
      } finally {
        s.close();
      }
    });
    await new Promise((r) => server.close(r));
    expect(['EPIPE', 'ECONNRESET']).toContain(code);
  });

  it('accept skips a connection reset before it was accepted', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    // Connect and reset at once, before the server accepts.
    await new Promise<void>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => {
        s.resetAndDestroy();
        resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 20));
    const got = await run(function* (): Green<string> {
      const live = spawn(function* () {
        const s = yield* connect({ port, host: '127.0.0.1' });
        yield* s.sendAll(Buffer.from('live'));
        s.close();
      });
      // The reset one may still be handed out (Linux keeps it): it reads as reset or empty.
      for (;;) {
        const conn = yield* server.accept();
        try {
          const d = yield* conn.recv();
          if (d.length > 0) {
            yield* live.wait();
            return d.toString();
          }
        } catch (e) {
          expect((e as { code: string }).code).toBe('ECONNRESET');
        } finally {
          conn.close();
        }
      }
    });
    server.close();
    expect(got).toBe('live');
  });

  it('close() wakes every greenthread blocked on the socket with the closed error; later calls fail clearly', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const r = await run(function* () {
      const [s, peer] = yield* connectedPair(server);
      const blocked = spawn(function* (): Green<string> {
        try {
          yield* s.recv();
          return 'returned';
        } catch (e) {
          return (e as { code: string }).code;
        }
      });
      yield* sleep(1);
      s.close();
      s.close(); // idempotent
      const woke = yield* blocked.wait();
      let later = '';
      try {
        s.recv();
      } catch (e) {
        later = (e as { code: string }).code;
      }
      peer.close();
      return { woke, later, fd: s.fd, fds: getHub().stats().fdWaiters };
    });
    server.close();
    expect(r).toEqual({ woke: 'ERR_SOCKET_CLOSED', later: 'ERR_SOCKET_CLOSED', fd: -1, fds: 0 });
  });

  it('a second reader is refused before it touches data buffered by the first', async () => {
    const server = listen({ port: 0 });
    const r = await run(function* () {
      const [s, peer] = yield* connectedPair(server);
      yield* peer.sendAll(Buffer.from('ab\ncde'));
      const first = spawn(function* () {
        const line = (yield* s.readLine()).toString(); // 'ab\n'; 'cde' stays buffered
        const rest = (yield* s.readUntil('!')).toString(); // waits for more
        return [line, rest];
      });
      yield* sleep(1);
      let err = '';
      try {
        yield* s.recv();
      } catch (e) {
        err = (e as Error).message;
      }
      yield* peer.sendAll(Buffer.from('0123!'));
      const got = yield* first.wait();
      s.close();
      peer.close();
      return { err, got };
    });
    server.close();
    expect(r.err).toMatch(/already has a reader/);
    expect(r.got).toEqual(['ab\n', 'cde0123!']);
  });

  it('a second concurrent reader is a clear error', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const msg = await run(function* (): Green<string> {
      const [s, peer] = yield* connectedPair(server);
      const first = spawn(function* () {
        yield* s.recv();
      });
      yield* sleep(1);
      let m = '';
      try {
        yield* s.recv();
      } catch (e) {
        m = (e as Error).message;
      }
      first.kill();
      s.close();
      peer.close();
      return m;
    });
    server.close();
    expect(msg).toMatch(/already has a reader/);
  });
});

describe('operation objects', () => {
  it('two reads created before either runs each read into their own buffer', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const r = await run(function* () {
      const [s, peer] = yield* connectedPair(server);
      const a = Buffer.alloc(3);
      const b = Buffer.alloc(3);
      const opA = s.recvInto(a); // created now, run later: the socket must not reuse it for opB
      const opB = s.recvInto(b);
      yield* peer.sendAll(Buffer.from('abc'));
      const na = yield* opA;
      yield* peer.sendAll(Buffer.from('xyz'));
      const nb = yield* opB;
      s.close();
      peer.close();
      return [na, a.toString(), nb, b.toString()];
    });
    server.close();
    expect(r).toEqual([3, 'abc', 3, 'xyz']);
  });
});

describe('timeouts', () => {
  it('setTimeout makes a recv that gets nothing throw TimeoutError; the socket stays usable', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const r = await run(function* () {
      const [s, peer] = yield* connectedPair(server);
      s.setTimeout(20);
      let err: unknown;
      try {
        yield* s.recv();
      } catch (e) {
        err = e;
      }
      yield* peer.sendAll(Buffer.from('late'));
      const d = (yield* s.recv()).toString();
      s.close();
      peer.close();
      return { timeout: err instanceof TimeoutError, code: (err as { code: string }).code, d, timers: getHub().stats().timers };
    });
    server.close();
    expect(r).toEqual({ timeout: true, code: 'ETIMEDOUT', d: 'late', timers: 0 });
  });
});

describe('listen and connect', () => {
  it('reusePort: two listeners on one port both accept', async () => {
    const a = listen({ port: 0, reusePort: true });
    const port = a.address().port;
    const b = listen({ port, reusePort: true });
    const seen = new Set<string>();
    const acceptors = [a, b].map((srv, i) =>
      spawn(function* () {
        for (;;) {
          const c = yield* srv.accept();
          seen.add(`server ${i}`);
          c.close();
        }
      }),
    );
    await run(function* () {
      for (let i = 0; i < 200 && seen.size < 2; i++) {
        const s = yield* connect({ port, host: '127.0.0.1' });
        yield* s.recv(); // wait for the close
        s.close();
      }
    });
    for (const g of acceptors) g.kill();
    a.close();
    b.close();
    expect([...seen].sort()).toEqual(['server 0', 'server 1']);
  });

  it('connect to localhost reaches a server on 127.0.0.1', async () => {
    const { port, stop } = echoServer('127.0.0.1');
    const back = await run(function* () {
      const s = yield* connect({ host: 'localhost', port });
      const b = yield* roundTrip(s, Buffer.from('via localhost'));
      s.close();
      return b.toString();
    });
    stop();
    expect(back).toBe('via localhost');
  });

  it('produces ECONNREFUSED and EADDRINUSE for real, shaped like Node\'s', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    let inUse: unknown;
    try {
      listen({ port });
    } catch (e) {
      inUse = e;
    }
    expect(inUse).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', address: '127.0.0.1', port, errno: -98 });
    server.close();
    const refused = await run(function* () {
      try {
        yield* connect({ host: '127.0.0.1', port });
      } catch (e) {
        return e;
      }
      return undefined;
    });
    expect(refused).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1', port });
    expect((refused as Error).message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it('connect times out with TimeoutError and leaves no fd', async () => {
    // A listener whose backlog is full never completes new handshakes.
    const server = listen({ port: 0, backlog: 0 });
    const port = server.address().port;
    const outcome = await run(function* () {
      const held: GreenSocket[] = [];
      try {
        for (let i = 0; i < 20; i++) held.push(yield* connect({ host: '127.0.0.1', port }, { timeoutMs: 50 }));
        return 'never timed out';
      } catch (e) {
        return e instanceof TimeoutError ? 'timeout' : String(e);
      } finally {
        for (const s of held) s.close();
      }
    });
    server.close();
    expect(outcome).toBe('timeout');
  });

  it('sendAll takes a string and sends it as UTF-8, as Node\'s socket.write does', async () => {
    await run(function* () {
      const server = listen({ port: 0 });
      const peerGt = spawn(function* () {
        const peer = yield* server.accept();
        try {
          return (yield* peer.readExactly(Buffer.byteLength('grüße\n'))).toString('utf8');
        } finally {
          peer.close();
        }
      });
      const s = yield* connect({ port: server.address().port });
      yield* s.sendAll('grüße\n');
      expect(yield* peerGt.wait()).toBe('grüße\n');
      s.close();
      server.close();
    });
  });

  it('rejects bad arguments with TypeError/RangeError before any syscall', async () => {
    expect(() => listen({ port: 70000 })).toThrow(RangeError);
    expect(() => listen({ host: 'example.com' })).toThrow(/IP address literal/);
    expect(() => listen({ port: 'x' as never })).toThrow(TypeError);
    await run(function* () {
      expect(() => connect({ port: 0 })).toThrow(RangeError);
      expect(() => connect({ host: 5 as never, port: 80 })).toThrow(TypeError);
      const server = listen({ port: 0 });
      const port = server.address().port;
      const peerGt = spawn(function* () {
        return yield* server.accept();
      });
      const s = yield* connect({ port, host: '127.0.0.1' });
      expect(() => s.sendAll(5 as never)).toThrow(TypeError);
      expect(() => s.sendAll([Buffer.from('a'), 'b' as never])).toThrow(/data\[1\]/);
      expect(() => s.recv(0)).toThrow(RangeError);
      expect(() => s.shutdown('sideways' as never)).toThrow(TypeError);
      s.setNoDelay().setKeepAlive(true, 1000);
      s.close();
      (yield* peerGt.wait()).close();
      server.close();
    });
  });

  it('a Unix socket with a full backlog refuses the connection instead of handing out an unconnected socket', async () => {
    const path = `/tmp/greenhub-backlog-${process.pid}.sock`;
    const server = listen({ path, backlog: 0 });
    const r = await run(function* () {
      const held: GreenSocket[] = [];
      try {
        for (let i = 0; i < 50; i++) held.push(yield* connect({ path }, { timeoutMs: 1000 }));
        return 'all connected';
      } catch (e) {
        return (e as { code: string }).code;
      } finally {
        for (const s of held) s.close();
      }
    });
    server.close();
    expect(r).toBe('EAGAIN');
  });

  it('serves and connects over a Unix socket', async () => {
    const path = `/tmp/greenhub-test-${process.pid}.sock`;
    const server = listen({ path });
    expect(server.address()).toEqual({ address: path, family: 'Unix', port: 0 });
    const back = await run(function* () {
      spawn(function* () {
        yield* echo(yield* server.accept());
      });
      const s = yield* connect({ path });
      const b = yield* roundTrip(s, Buffer.from('unix'));
      s.close();
      return b.toString();
    });
    server.close();
    expect(back).toBe('unix');
    expect(require('node:fs').existsSync(path)).toBe(false);
  });
});
