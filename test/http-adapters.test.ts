// greenReader / greenWriter (lib/http/adapters.ts): blocking-style reads and writes over Node
// streams, on real streams: node:http on 127.0.0.1, PassThrough, a slow Writable.
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { greenReader, greenWriter, sleep, spawn } from '../lib';
import type { Green } from '../lib';
import { run, thrown } from './helpers/green';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** An http server on 127.0.0.1 whose every request is handled by a greenthread; resolves with its port. */
async function greenServer(handler: (req: http.IncomingMessage, res: http.ServerResponse) => Green<void>): Promise<number> {
  const server = http.createServer((req, res) => {
    spawn(handler, req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Bytes that tell where they are: block i filled with i. */
function pattern(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4) b.writeUInt32BE(i >>> 2, i);
  return b;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Sent {
  status: number;
  body: Buffer;
  /** How often the client's write() returned false (it waited for 'drain'). */
  waits: number;
}

/** POSTs body in chunks of `chunk` bytes, honouring the client's own backpressure; reads the answer (slowly if readDelayMs). */
function post(port: number, path: string, body: Buffer, chunk = 64 * 1024, readDelayMs = 0): Promise<Sent> {
  return new Promise((resolve, reject) => {
    let waits = 0;
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => {
        parts.push(d);
        if (readDelayMs > 0) {
          res.pause();
          setTimeout(() => res.resume(), readDelayMs);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), waits }));
      res.on('error', reject);
    });
    req.on('error', reject);
    let off = 0;
    const pump = (): void => {
      while (off < body.length) {
        const ok = req.write(body.subarray(off, Math.min(off + chunk, body.length)));
        off += chunk;
        if (!ok) {
          waits++;
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('greenReader over an http.IncomingMessage', () => {
  it('reads a several-MB body sent in chunks, byte for byte, while backpressure holds the sender', async () => {
    const body = pattern(8 << 20);
    let maxBuffered = 0;
    const port = await greenServer(function* (req, res) {
      const r = greenReader(req);
      const hash = createHash('sha256');
      let bytes = 0;
      for (;;) {
        const chunk = yield* r.read(32 * 1024);
        if (chunk.length === 0) break;
        expect(chunk.length).toBeLessThanOrEqual(32 * 1024);
        hash.update(chunk);
        bytes += chunk.length;
        // Taken from the socket but not yet read by us (headers included: a few hundred bytes).
        maxBuffered = Math.max(maxBuffered, req.socket.bytesRead - bytes);
        if (bytes % (128 * 1024) === 0) yield* sleep(5); // a slow reader
      }
      yield* greenWriter(res).end(`${bytes} ${hash.digest('hex')}`);
    });
    const answer = await post(port, '/upload', body);
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe(`${body.length} ${sha(body)}`);
    // The sender waited for its socket to drain, and the server never took much more from its
    // socket than the streams' highWaterMarks: reads pull only when asked (MBs would pile up
    // in memory otherwise).
    expect(answer.waits).toBeGreaterThan(0);
    expect(maxBuffered).toBeLessThan(1 << 20);
  });

  it('echoes a body through greenWriter to a slow client: bytes equal, writes waited for drain', async () => {
    const body = pattern(4 << 20);
    let drains = 0;
    let maxQueued = 0;
    const port = await greenServer(function* (req, res) {
      res.on('drain', () => drains++);
      const r = greenReader(req);
      const w = greenWriter(res);
      for (;;) {
        const chunk = yield* r.read();
        if (chunk.length === 0) break;
        yield* w.write(chunk);
        maxQueued = Math.max(maxQueued, res.writableLength);
      }
      yield* w.end();
      expect(res.writableFinished).toBe(true);
    });
    const answer = await post(port, '/echo', body, 64 * 1024, 2);
    expect(answer.status).toBe(200);
    expect(answer.body.length).toBe(body.length);
    expect(sha(answer.body)).toBe(sha(body));
    expect(drains).toBeGreaterThan(0);
    // After each write returns, the response holds less than its highWaterMark plus one chunk.
    expect(maxQueued).toBeLessThanOrEqual(writableHwm() + 64 * 1024);
  });

  it('text() and json() read a whole body; a client that goes away mid-body is an error in the greenthread', async () => {
    const seen: string[] = [];
    const port = await greenServer(function* (req, res) {
      try {
        if (req.url === '/json') {
          const v = yield* greenReader(req).json<{ n: number }>();
          yield* greenWriter(res).end(String(v.n + 1));
        } else {
          const text = yield* greenReader(req).text({ maxBytes: 64 << 20 });
          if (req.url === '/empty') expect(text).toBe('');
          seen.push('no error');
          yield* greenWriter(res).end();
        }
      } catch (e) {
        seen.push(`${(e as Error & { code?: string }).code}: ${(e as Error).message}`);
      }
    });
    const answer = await post(port, '/json', Buffer.from('{"n": 41}'));
    expect(answer.body.toString()).toBe('42');
    const empty = await post(port, '/empty', Buffer.alloc(0));
    expect(empty.status).toBe(200);
    expect(seen).toEqual(['no error']);
    seen.length = 0;

    // Send a part of a long body, then reset the connection.
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/abort', method: 'POST', agent: false, headers: { 'content-length': String(1 << 20) } });
      req.on('error', () => {});
      req.write(Buffer.alloc(1000), () => setTimeout(() => {
        req.destroy();
        resolve();
      }, 50));
    });
    for (let i = 0; i < 100 && seen.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual(['ECONNRESET: aborted']);
  });
});

/** The default highWaterMark of a writable (a response's). */
function writableHwm(): number {
  return new Writable().writableHighWaterMark;
}

describe('greenReader over a PassThrough', () => {
  it('readLine() gives lines however the bytes arrive, then what is left, then empty; read() mixes with it', async () => {
    const pt = new PassThrough();
    const lines = run(function* () {
      const r = greenReader(pt);
      const out: string[] = [];
      out.push((yield* r.readLine()).toString());
      out.push((yield* r.read(2)).toString());
      for (;;) {
        const line = yield* r.readLine();
        out.push(line.toString());
        if (line.length === 0) break;
      }
      return out;
    });
    pt.write('alpha\nbe');
    await new Promise((r) => setTimeout(r, 10));
    pt.write('ta');
    await new Promise((r) => setTimeout(r, 10));
    pt.write('-gamma\n\nde');
    pt.end('lta');
    expect(await lines).toEqual(['alpha\n', 'be', 'ta-gamma\n', '\n', 'delta', '']);
  });

  it('a line longer than maxBytes is ERR_LINE_TOO_LONG and loses no bytes', async () => {
    const pt = new PassThrough();
    pt.write('0123456789abcdef\nrest\n');
    pt.end();
    const out = await run(function* () {
      const r = greenReader(pt);
      let code: string | undefined;
      try {
        yield* r.readLine({ maxBytes: 8 });
      } catch (e) {
        code = (e as { code?: string }).code;
      }
      return [code, (yield* r.readLine()).toString(), (yield* r.readLine()).toString()];
    });
    expect(out).toEqual(['ERR_LINE_TOO_LONG', '0123456789abcdef\n', 'rest\n']);
  });

  it('readAll() past maxBytes is ERR_BODY_TOO_LARGE; up to maxBytes it returns every byte', async () => {
    const big = new PassThrough();
    big.end(Buffer.alloc(100, 1));
    const exact = new PassThrough();
    exact.write(Buffer.alloc(60, 2));
    exact.end(Buffer.alloc(40, 3));
    const out = await run(function* () {
      let err: (Error & { code?: string; maxBytes?: number }) | undefined;
      try {
        yield* greenReader(big).readAll({ maxBytes: 50 });
      } catch (e) {
        err = e as Error & { code?: string; maxBytes?: number };
      }
      const all = yield* greenReader(exact).readAll({ maxBytes: 100 });
      return { code: err?.code, maxBytes: err?.maxBytes, all: all.length, last: all[99], again: (yield* greenReader(exact).read()).length };
    });
    expect(out).toEqual({ code: 'ERR_BODY_TOO_LARGE', maxBytes: 50, all: 100, last: 3, again: 0 });
  });

  it('a stream destroyed with an error mid-read throws it in the waiting greenthread', async () => {
    const pt = new PassThrough();
    const gt = spawn(function* () {
      const r = greenReader(pt);
      const first = (yield* r.read()).toString();
      try {
        yield* r.read();
        return `${first}, no error`;
      } catch (e) {
        return `${first}, ${(e as Error).message}`;
      }
    });
    pt.write('hello');
    setTimeout(() => pt.destroy(new Error('disk on fire')), 20);
    expect(await gt).toBe('hello, disk on fire');
  });

  it('a stream destroyed without an error before its end is ERR_STREAM_PREMATURE_CLOSE', async () => {
    const pt = new PassThrough();
    const gt = spawn(function* () {
      try {
        yield* greenReader(pt).readAll();
        return 'no error';
      } catch (e) {
        return (e as { code?: string }).code;
      }
    });
    setTimeout(() => pt.destroy(), 10);
    expect(await gt).toBe('ERR_STREAM_PREMATURE_CLOSE');
  });

  it('one reader at a time; blocking calls outside a greenthread fail at the call', async () => {
    const pt = new PassThrough();
    const r = greenReader(pt);
    expect(greenReader(pt)).toBe(r);
    expect(thrown(() => r.read())).toMatch(/read\(\)/);
    const first = spawn(function* () {
      return (yield* r.readLine()).toString();
    });
    const second = await run(function* () {
      yield* sleep(5);
      try {
        yield* r.read();
        return 'no error';
      } catch (e) {
        return (e as { code?: string }).code;
      }
    });
    expect(second).toBe('ERR_ROLE_TAKEN');
    pt.end('x\n');
    expect(await first).toBe('x\n');
  });

  it('a reader killed while it waits gives the reader role back; after the end reads stay empty', async () => {
    const pt = new PassThrough();
    const r = greenReader(pt);
    const waiting = spawn(function* () {
      return yield* r.read();
    });
    const out = await run(function* () {
      yield* sleep(5);
      waiting.kill();
      pt.end('after');
      const a = (yield* r.read()).toString();
      return [a, (yield* r.read()).length, (yield* r.readLine()).length, (yield* r.readAll()).length];
    });
    expect(out).toEqual(['after', 0, 0, 0]);
    await expect(Promise.resolve(waiting)).rejects.toThrow(/killed/);
  });
});

describe('argument checks', () => {
  it('refuses what is not a byte stream, and bad options, at the call', async () => {
    expect(thrown(() => greenReader(42 as never))).toMatch(/^TypeError: readable must be a stream.Readable/);
    expect(thrown(() => greenReader(new PassThrough({ objectMode: true })))).toMatch(/^TypeError: .*object mode/);
    expect(thrown(() => greenWriter({} as never))).toMatch(/^TypeError: writable must be/);
    const out = await run(function* () {
      const r = greenReader(new PassThrough());
      return [
        thrown(() => r.read(0)),
        thrown(() => r.readAll({ maxBytes: -1 })),
        thrown(() => r.readLine({ maxBytes: 0 })),
        thrown(() => r.text({ bogus: 1 } as never)),
      ];
    });
    expect(out[0]).toMatch(/^RangeError: max must be/);
    expect(out[1]).toMatch(/^RangeError: maxBytes must be/);
    expect(out[2]).toMatch(/^RangeError: maxBytes must be/);
    expect(out[3]).toMatch(/^TypeError: .*bogus/);
  });
});

describe('greenWriter', () => {
  it('waits for drain when a slow reader fills the buffer, and end() waits for finish', async () => {
    const got: Buffer[] = [];
    let drains = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, cb) {
        got.push(chunk);
        setTimeout(cb, 2);
      },
    });
    slow.on('drain', () => drains++);
    const out = await run(function* () {
      const w = greenWriter(slow);
      let maxQueued = 0;
      for (let i = 0; i < 40; i++) {
        yield* w.write(Buffer.alloc(512, i));
        // After each write returns, the buffer is below its mark: a write that filled it waited.
        maxQueued = Math.max(maxQueued, slow.writableLength);
      }
      yield* w.end('end');
      return { maxQueued, finished: slow.writableFinished };
    });
    expect(out.maxQueued).toBeLessThan(1024);
    expect(out.finished).toBe(true);
    expect(drains).toBeGreaterThanOrEqual(10);
    const all = Buffer.concat(got);
    expect(all.length).toBe(40 * 512 + 3);
    expect(all[39 * 512]).toBe(39);
    expect(all.subarray(-3).toString()).toBe('end');
  });

  it('throws the stream\'s error to the waiting writer, and to later writes', async () => {
    const stuck = new Writable({
      highWaterMark: 16,
      write(_chunk, _enc, _cb) {
        /* never completes */
      },
    });
    setTimeout(() => stuck.destroy(new Error('pipe broke')), 20);
    const out = await run(function* () {
      const w = greenWriter(stuck);
      const messages: string[] = [];
      try {
        yield* w.write(Buffer.alloc(64));
      } catch (e) {
        messages.push((e as Error).message);
      }
      try {
        yield* w.end('more');
      } catch (e) {
        messages.push((e as Error).message);
      }
      return messages;
    });
    expect(out).toEqual(['pipe broke', 'pipe broke']);
  });

  it('write after end() is ERR_STREAM_WRITE_AFTER_END; bad chunks are a TypeError at the call', async () => {
    const sink = new PassThrough();
    sink.resume();
    const out = await run(function* () {
      const w = greenWriter(sink);
      yield* w.end('bye');
      yield* w.end(); // ending an ended stream just returns
      try {
        yield* w.write('late');
        return 'no error';
      } catch (e) {
        return (e as { code?: string }).code;
      }
    });
    expect(out).toBe('ERR_STREAM_WRITE_AFTER_END');
    expect(thrown(() => greenWriter(new PassThrough()).write(42 as unknown as string))).toMatch(/^TypeError: chunk must be a string or Buffer/);
  });
});
