// eventlet's socket calls that greenhub lacked: socketpair() (lib/io/socketpair.ts), dup() on
// GreenSocket and GreenFd, setOption/getOption (lib/io/socket-options.ts), setTimeout(0) as
// non-blocking mode (lib/io/fd-handle.ts), recvFromInto on UDP — on real sockets and pipes.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TimeoutError, getHub, listen, sleep, spawn, udpSocket } from '../lib';
import type { Green } from '../lib';
import { pipe } from '../lib/io/green-fd';
import { SOCKET_OPTIONS } from '../lib/io/socket-options';
import { socketpair } from '../lib/io/socketpair';
import { native } from '../lib/native';
import { endedKilled, run } from './helpers/green';
import { connectedPair } from './helpers/net';

/** The open-file flags of fd, from /proc (octal). */
function fdFlags(fd: number): number {
  const line = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').find((l) => l.startsWith('flags:'))!;
  return parseInt(line.split(/\s+/)[1], 8);
}
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).name;
  }
}

describe('socketpair', () => {
  it('gives two connected Unix stream GreenSockets, non-blocking and close-on-exec, talking both ways', async () => {
    const [a, b] = socketpair();
    for (const s of [a, b]) expect(fdFlags(s.fd) & (O_NONBLOCK | O_CLOEXEC)).toBe(O_NONBLOCK | O_CLOEXEC);
    expect(a.remoteFamily).toBe('Unix');
    const got = await run(function* (): Green<string[]> {
      const talker = spawn(function* () {
        yield* a.sendAll(Buffer.from('ping\n'));
        return (yield* a.readLine()).toString();
      });
      const line = (yield* b.readLine()).toString();
      yield* b.sendAll(Buffer.from('pong\n'));
      b.shutdown('write');
      const reply = yield* talker.wait();
      return [line, reply, String((yield* a.recv()).length)];
    });
    expect(got).toEqual(['ping\n', 'pong\n', '0']); // a half-close is end of stream at the other end
    a.close();
    b.close();
    expect(getHub().stats().registeredFds).toBe(0);
  });

  it('closing one end is end of stream at the other, and a blocked reader there wakes with it', async () => {
    const [a, b] = socketpair();
    const r = await run(function* (): Green<number> {
      const reader = spawn(function* () {
        return (yield* b.recv()).length;
      });
      yield* sleep(1);
      a.close();
      return yield* reader.wait();
    });
    expect(r).toBe(0);
    b.close();
  });
});

describe('dup', () => {
  it('GreenSocket.dup(): closing the original leaves the copy working both ways, and the peer sees the end only when both are closed', async () => {
    const server = listen({ port: 0 });
    const log = await run(function* (): Green<string[]> {
      const [client, peer] = yield* connectedPair(server);
      const copy = client.dup();
      expect(copy.fd).not.toBe(client.fd);
      expect(fdFlags(copy.fd) & O_CLOEXEC).toBe(O_CLOEXEC);
      // A reader parked on the copy keeps its wait when the original closes (its own registration).
      const reader = spawn(function* () {
        return (yield* copy.readLine()).toString();
      });
      yield* sleep(1);
      client.close();
      yield* peer.sendAll(Buffer.from('to the copy\n'));
      const out = [yield* reader.wait()];
      yield* copy.sendAll(Buffer.from('from the copy\n'));
      out.push((yield* peer.readLine()).toString());
      // The connection is still open (the copy holds it): the peer gets no end of stream yet.
      peer.setTimeout(30);
      try {
        yield* peer.recv();
        out.push('peer read something');
      } catch (e) {
        out.push(e instanceof TimeoutError ? 'peer still waiting' : String(e));
      }
      copy.close();
      peer.setTimeout(null);
      out.push(`after both closed: ${(yield* peer.recv()).length} bytes`);
      peer.close();
      return out;
    });
    expect(log).toEqual(['to the copy\n', 'from the copy\n', 'peer still waiting', 'after both closed: 0 bytes']);
    server.close();
    expect(getHub().stats().registeredFds).toBe(0);
  });

  it('closing the copy leaves the original working, and the freed fd number serves a new pipe', async () => {
    const server = listen({ port: 0 });
    const log = await run(function* (): Green<string[]> {
      const [client, peer] = yield* connectedPair(server);
      client.setTimeout(5000);
      const copy = client.dup();
      expect(copy.getTimeout()).toBe(5000); // the timeout is copied, as eventlet's dup
      const copyFd = copy.fd;
      copy.close();
      const [r, w] = pipe(); // likely gets copyFd again: the hub must not confuse it with the copy
      yield* peer.sendAll(Buffer.from('still here\n'));
      const out = [(yield* client.readLine()).toString()];
      yield* w.sendAll(Buffer.from('pipe\n'));
      out.push((yield* r.readLine()).toString());
      out.push(String(r.fd === copyFd || w.fd === copyFd));
      for (const x of [r, w, client, peer]) x.close();
      return out;
    });
    expect(log.slice(0, 2)).toEqual(['still here\n', 'pipe\n']);
    server.close();
  });

  it('GreenFd.dup(): a pipe write end and its copy; the reader sees end of stream only after both close', async () => {
    const [r, w] = pipe();
    const w2 = w.dup();
    const got = await run(function* (): Green<string[]> {
      w.close();
      yield* w2.sendAll(Buffer.from('via the copy'));
      const out = [(yield* r.recv()).toString()];
      w2.close();
      out.push(`${(yield* r.recv()).length}`);
      return out;
    });
    expect(got).toEqual(['via the copy', '0']);
    r.close();
    expect(() => w2.dup()).toThrow(expect.objectContaining({ code: 'ERR_FD_CLOSED' }));
  });

  it('dup() of a closed socket is its closed error', () => {
    const [a, b] = socketpair();
    a.close();
    expect(codeOf(() => a.dup())).toBe('ERR_SOCKET_CLOSED');
    b.close();
  });
});

describe('setOption / getOption', () => {
  it('sets and reads the common options of a TCP socket; Linux reports SO_RCVBUF/SO_SNDBUF doubled', async () => {
    const server = listen({ port: 0 });
    const r = await run(function* () {
      const [client, peer] = yield* connectedPair(server);
      const out: Record<string, unknown> = {};
      client.setOption('TCP_NODELAY', true);
      out.nodelayOn = client.getOption('TCP_NODELAY');
      client.setOption('TCP_NODELAY', false);
      out.nodelayOff = client.getOption('TCP_NODELAY');
      client.setOption('SO_KEEPALIVE', true).setOption('TCP_KEEPIDLE', 30).setOption('TCP_KEEPINTVL', 5).setOption('TCP_KEEPCNT', 3);
      out.keepalive = [client.getOption('SO_KEEPALIVE'), client.getOption('TCP_KEEPIDLE'), client.getOption('TCP_KEEPINTVL'), client.getOption('TCP_KEEPCNT')];
      client.setOption('SO_RCVBUF', 65536).setOption('SO_SNDBUF', 65536);
      out.bufs = [client.getOption('SO_RCVBUF'), client.getOption('SO_SNDBUF')];
      // Still a working socket afterwards.
      yield* client.sendAll(Buffer.from('hi\n'));
      out.line = (yield* peer.readLine()).toString();
      client.close();
      peer.close();
      return out;
    });
    expect(r).toEqual({ nodelayOn: true, nodelayOff: false, keepalive: [true, 30, 5, 3], bufs: [131072, 131072], line: 'hi\n' });
    server.close();
  });

  it('works on servers and UDP sockets too', () => {
    const server = listen({ port: 0, reusePort: true });
    expect(server.getOption('SO_REUSEADDR')).toBe(true); // listen() sets it
    expect(server.getOption('SO_REUSEPORT')).toBe(true);
    server.close();
    const u = udpSocket({ bind: { port: 0 } });
    expect(u.getOption('SO_BROADCAST')).toBe(false);
    u.setOption('SO_BROADCAST', true).setOption('IP_TTL', 7);
    expect([u.getOption('SO_BROADCAST'), u.getOption('IP_TTL')]).toEqual([true, 7]);
    u.close();
  });

  it('rejects unknown names and bad values before the syscall; the kernel refuses what the fd cannot do', () => {
    const [a, b] = socketpair();
    expect(() => a.setOption('SO_NOPE' as never, 1 as never)).toThrow(RangeError);
    expect(() => a.getOption('toString' as never)).toThrow(/unknown socket option; the options are SO_REUSEADDR/);
    expect(() => a.getOption(7 as never)).toThrow(TypeError);
    expect(() => a.setOption('SO_KEEPALIVE', 1 as never)).toThrow(/SO_KEEPALIVE is a flag: its value must be a boolean, got 1/);
    expect(() => a.setOption('SO_RCVBUF', -1)).toThrow(RangeError);
    expect(() => a.setOption('SO_RCVBUF', 1.5)).toThrow(RangeError);
    expect(() => a.setOption('SO_RCVBUF', '1' as never)).toThrow(TypeError);
    expect(codeOf(() => a.setOption('TCP_NODELAY', true))).toBe('ENOTSUP'); // a Unix socket has no TCP options (EOPNOTSUPP, which Node names ENOTSUP)
    expect(a.getOption('SO_RCVBUF')).toBeGreaterThan(0);
    a.close();
    expect(codeOf(() => a.getOption('SO_RCVBUF'))).toBe('ERR_SOCKET_CLOSED');
    b.close();
    const [r, w] = pipe();
    expect(codeOf(() => r.getOption('SO_RCVBUF'))).toBe('ENOTSOCK');
    r.close();
    w.close();
    expect(SOCKET_OPTIONS).toContain('SO_REUSEPORT');
  });
});

describe('setTimeout(0): non-blocking mode', () => {
  it('a read that would wait throws EAGAIN at once, without a switch; data already in the kernel is returned even when the cache says drained', async () => {
    const [a, b] = socketpair();
    const r = await run(function* () {
      b.setTimeout(0);
      expect(b.getTimeout()).toBe(0);
      const switches = getHub().stats().switches;
      let err: { code?: string; syscall?: string } = {};
      try {
        yield* b.recv();
      } catch (e) {
        err = e as typeof err;
      }
      const afterFail = getHub().stats().switches - switches;
      // Bytes arrive with no turn in between (the hub has not seen the edge): the kernel is asked anyway.
      native.send(a.fd, Buffer.from('now'), 0, 3);
      const data = (yield* b.recv()).toString();
      return { code: err.code, syscall: err.syscall, afterFail, data, switches: getHub().stats().switches - switches };
    });
    expect(r).toEqual({ code: 'EAGAIN', syscall: 'read', afterFail: 0, data: 'now', switches: 0 });
    a.close();
    b.close();
  });

  it('readLine keeps what it read before EAGAIN; sendAll sends what fits and then throws EAGAIN; setTimeout(null) blocks again', async () => {
    const [a, b] = socketpair();
    const r = await run(function* () {
      b.setTimeout(0);
      yield* a.sendAll(Buffer.from('abc'));
      let line = '';
      try {
        line = (yield* b.readLine()).toString();
      } catch (e) {
        line = (e as { code: string }).code;
      }
      yield* a.sendAll(Buffer.from('def\n'));
      const whole = (yield* b.readLine()).toString();
      // A send buffer fills: part is taken, then EAGAIN (bytesWritten says how much went).
      const big = Buffer.alloc(16 << 20, 1);
      let sendErr: { code?: string; syscall?: string } = {};
      try {
        yield* b.sendAll(big);
      } catch (e) {
        sendErr = e as typeof sendErr;
      }
      const sent = b.bytesWritten;
      // Blocking again: a reader waits for the data instead of failing.
      b.setTimeout(null);
      expect(b.getTimeout()).toBe(null);
      a.setTimeout(Infinity);
      expect(a.getTimeout()).toBe(null);
      const drain = spawn(function* () {
        let n = 0;
        while (n < sent) n += (yield* a.recv(1 << 20)).length;
        return n;
      });
      const got = yield* drain.wait();
      const reader = spawn(function* () {
        return (yield* b.recv()).toString();
      });
      yield* sleep(1);
      yield* a.sendAll(Buffer.from('late'));
      return { line, whole, sendCode: sendErr.code, sendSyscall: sendErr.syscall, partial: sent > 0 && sent < big.length, got: got === sent, late: yield* reader.wait() };
    });
    expect(r).toEqual({ line: 'EAGAIN', whole: 'abcdef\n', sendCode: 'EAGAIN', sendSyscall: 'send', partial: true, got: true, late: 'late' });
    a.close();
    b.close();
  });

  it('accept and recvFrom throw EAGAIN too; a positive timeout still times out; bad values are rejected', async () => {
    const server = listen({ port: 0 }).setTimeout(0);
    const u = udpSocket({ bind: { port: 0 } }).setTimeout(0);
    const codes = await run(function* () {
      const out: unknown[] = [];
      for (const op of [() => server.accept(), () => u.recvFrom(), () => u.recvFromInto(Buffer.alloc(8))]) {
        try {
          yield* op();
        } catch (e) {
          out.push(`${(e as { code: string }).code} ${(e as { syscall: string }).syscall}`);
        }
      }
      u.setTimeout(5);
      try {
        yield* u.recvFrom();
      } catch (e) {
        out.push(e instanceof TimeoutError);
      }
      return out;
    });
    expect(codes).toEqual(['EAGAIN accept', 'EAGAIN recvfrom', 'EAGAIN recvfrom', true]);
    expect(() => u.setTimeout(-1)).toThrow(RangeError);
    expect(() => u.setTimeout(NaN)).toThrow(TypeError);
    expect(() => u.setTimeout('5' as never)).toThrow(TypeError);
    expect(() => u.setTimeout(undefined as never)).toThrow(TypeError);
    server.close();
    u.close();
  });
});

describe('UDP recvFromInto', () => {
  it('receives into the caller\'s buffer with the sender; a longer datagram is cut to the buffer, the next stays whole', async () => {
    const a = udpSocket({ bind: { port: 0 } });
    const b = udpSocket({ bind: { port: 0 } });
    const r = await run(function* () {
      yield* a.sendTo(Buffer.from('0123456789'), b.address().port);
      yield* a.sendTo(Buffer.from('next'), b.address().port);
      yield* a.sendTo(Buffer.alloc(0), b.address().port);
      const buf = Buffer.alloc(4);
      const first = yield* b.recvFromInto(buf);
      const firstData = buf.toString();
      const big = Buffer.alloc(64, 0x2e);
      const second = yield* b.recvFromInto(big.subarray(8)); // into a view: the bytes land in `big`
      const third = yield* b.recvFromInto(Buffer.alloc(16));
      return { first, firstData, second, secondData: big.subarray(0, 16).toString(), third: third.bytes };
    });
    expect(r).toEqual({
      first: { bytes: 4, address: '127.0.0.1', port: a.address().port, family: 'IPv4' },
      firstData: '0123',
      second: { bytes: 4, address: '127.0.0.1', port: a.address().port, family: 'IPv4' },
      secondData: '........next....',
      third: 0,
    });
    a.close();
    b.close();
  });

  it('a killed receiver gives the reader role back; a closed socket wakes a blocked one; bad arguments throw', async () => {
    const u = udpSocket({ bind: { port: 0 } });
    const s = udpSocket();
    const r = await run(function* () {
      const victim = spawn(function* () {
        yield* u.recvFromInto(Buffer.alloc(8));
      });
      yield* sleep(1);
      victim.kill();
      const killed = yield* endedKilled(victim);
      const next = spawn(function* () {
        return yield* u.recvFromInto(Buffer.alloc(8));
      });
      yield* sleep(1);
      yield* s.sendTo(Buffer.from('ok'), u.address().port);
      const got = (yield* next.wait()).bytes;
      const blocked = spawn(function* () {
        try {
          yield* u.recvFromInto(Buffer.alloc(8));
          return 'returned';
        } catch (e) {
          return (e as { code: string }).code;
        }
      });
      yield* sleep(1);
      u.close();
      return { killed, got, closed: yield* blocked.wait() };
    });
    expect(r).toEqual({ killed: true, got: 2, closed: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
    await run(function* () {
      expect(() => s.recvFromInto('x' as never)).toThrow(TypeError);
      expect(() => u.recvFromInto(Buffer.alloc(1))).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }));
    });
    expect(() => s.recvFromInto(Buffer.alloc(1))).toThrow(/inside a greenthread/);
    s.close();
  });
});
