// GreenFd and pipe (lib/io/green-fd.ts)
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GreenFd, pipe, sleep, spawn, waitFor, withTimeout } from '../lib';
import type { GreenStream } from '../lib';
import type { Green } from '../lib';
import { K, native } from '../lib/native';
import { run } from './helpers/green';
import { closeAll, pipe as rawPipe } from './helpers/raw';

describe('pipe and GreenFd', () => {
  it('moves 8 MiB through a pipe between two greenthreads, in order', async () => {
    const [r, w] = pipe();
    const data = Buffer.alloc(8 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    const got = await run(function* (): Green<Buffer> {
      const writer = spawn(function* () {
        yield* w.sendAll(data);
        w.close();
      });
      const chunks: Buffer[] = [];
      for (;;) {
        const c = yield* r.recv();
        if (c.length === 0) break;
        chunks.push(c);
      }
      yield* writer.wait();
      r.close();
      return Buffer.concat(chunks);
    });
    expect(got.equals(data)).toBe(true);
  });

  it('adopts an fd the user owns, makes it non-blocking, and wakes a reader when data comes', async () => {
    const [rfd, wfd] = rawPipe();
    const reader = new GreenFd(rfd);
    const out = await run(function* () {
      const gt = spawn(function* () {
        const buf = Buffer.alloc(16);
        const n = yield* reader.recvInto(buf);
        return buf.subarray(0, n).toString();
      });
      yield* sleep(2);
      native.write(wfd, Buffer.from('adopted'), 0, 7);
      return yield* gt.wait();
    });
    expect(out).toBe('adopted');
    reader.close();
    expect(reader.fd).toBe(-1);
    native.close(wfd);
  });

  it('reads every queued datagram from a datagram socket (a short read does not mean drained)', async () => {
    const rx = native.socket(K.AF_INET, K.SOCK_DGRAM);
    native.bind(rx, K.AF_INET, '127.0.0.1', 0);
    const port = (native.getsockname(rx) as { port: number }).port;
    const tx = native.socket(K.AF_INET, K.SOCK_DGRAM);
    const g = new GreenFd(rx);
    for (const word of ['one', 'two']) native.sendto(tx, Buffer.from(word), 0, word.length, K.AF_INET, '127.0.0.1', port);
    const got = await run(function* () {
      const a = (yield* withTimeout(1000, g.recv(100))).toString();
      const b = (yield* withTimeout(1000, g.recv(100))).toString();
      return [a, b];
    });
    g.close();
    native.close(tx);
    expect(got).toEqual(['one', 'two']);
  });

  it('leaves the fd open when asked not to close it', async () => {
    const [rfd, wfd] = rawPipe();
    const g = new GreenFd(wfd, { close: false });
    g.close();
    expect(native.write(wfd, Buffer.from('x'), 0, 1)).toBe(1);
    closeAll(rfd, wfd);
  });

  it('refuses a regular file and a closed fd clearly; calls after close fail', async () => {
    const file = fs.openSync(__filename, 'r');
    expect(() => new GreenFd(file)).toThrow(/regular file/);
    fs.closeSync(file);
    expect(() => new GreenFd(987_654)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => new GreenFd(-2)).toThrow(RangeError);
    const [r, w] = pipe();
    r.close();
    await run(function* () {
      expect(() => r.recv()).toThrow(expect.objectContaining({ code: 'ERR_FD_CLOSED' }));
      expect(() => w.send('x' as never)).toThrow(TypeError);
    });
    w.close();
  });

  it('a write to a pipe whose reader is gone is EPIPE, not a SIGPIPE death', async () => {
    const [r, w] = pipe();
    r.close();
    const code = await run(function* (): Green<string> {
      try {
        yield* w.sendAll(Buffer.from('nobody reads'));
        return 'no error';
      } catch (e) {
        return (e as { code: string }).code;
      }
    });
    w.close();
    expect(code).toBe('EPIPE');
  });

  it('speaks the GreenSocket read calls on a pipe: readLine, readUntil, readExactly, recvInto mixed over one buffer', async () => {
    const [r, w] = pipe();
    const got = await run(function* () {
      spawn(function* () {
        yield* w.sendAll(Buffer.from('first line\nkey=value;1234rest'));
        w.close();
      });
      const stream: GreenStream = r; // the same contract as a socket
      const line = (yield* stream.readLine()).toString();
      const field = (yield* stream.readUntil(';')).toString();
      const four = (yield* stream.readExactly(4)).toString();
      const buf = Buffer.alloc(16);
      const n = yield* stream.recvInto(buf);
      const end = yield* stream.recv();
      r.close();
      return [line, field, four, buf.subarray(0, n).toString(), end.length];
    });
    expect(got).toEqual(['first line\n', 'key=value;', '1234', 'rest', 0]);
  });

  it('send() returns how many bytes the pipe took, at least one', async () => {
    const [r, w] = pipe();
    const n = await run(function* () {
      return yield* w.send(Buffer.from('abc'));
    });
    expect(n).toBe(3);
    r.close();
    w.close();
  });

  it('toDuplex() pipes Node streams through a pipe; end() closes the write end so the reader sees end of file', async () => {
    const { Readable, Writable } = await import('node:stream');
    const { pipeline } = await import('node:stream/promises');
    const [r, w] = pipe();
    const chunks: Buffer[] = [];
    const got = await run(function* () {
      const into = pipeline(Readable.from([Buffer.from('hello '), Buffer.from('pipe')]), w.toDuplex());
      const out = pipeline(r.toDuplex(), new Writable({ write(c, _e, cb) { chunks.push(c); cb(); } }));
      yield* waitFor(Promise.all([into, out]));
      return Buffer.concat(chunks).toString();
    });
    expect(got).toBe('hello pipe');
    expect(w.closed).toBe(true);
    r.close();
  });
});
