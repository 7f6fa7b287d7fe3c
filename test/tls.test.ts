// wrapTls (lib/io/tls.ts): TLS on green sockets through Node's own tls module, with a self-signed
// certificate made at test time by openssl.
import { randomBytes } from 'node:crypto';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimeoutError, connect, listen, spawn, withTimeout, wrapTls } from '../lib';
import type { Green, GreenTlsSocket } from '../lib';
import { run } from './helpers/green';
import { type TlsKeys, makeTlsKeys } from './helpers/tls-keys';

let key: Buffer;
let cert: Buffer;
let keys: TlsKeys & { remove(): void };
beforeAll(() => {
  keys = makeTlsKeys();
  ({ key, cert } = keys);
});
afterAll(() => keys.remove());

function* tlsEcho(s: GreenTlsSocket): Green<void> {
  const buf = Buffer.allocUnsafe(16 * 1024);
  for (;;) {
    const n = yield* s.recvInto(buf);
    if (n === 0) break;
    yield* s.sendAll(buf.subarray(0, n));
  }
  s.close();
}

describe('wrapTls', () => {
  it('echoes every byte, in order, between a greenhub client and a greenhub server', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const data = randomBytes(300_000);
    const r = await run(function* () {
      spawn(function* () {
        const raw = yield* server.accept();
        yield* tlsEcho(yield* wrapTls(raw, { isServer: true, key, cert }));
      });
      const raw = yield* connect({ host: '127.0.0.1', port });
      const s = yield* wrapTls(raw, { servername: 'localhost', ca: cert });
      const writer = spawn(function* () {
        yield* s.sendAll([data.subarray(0, 1000), data.subarray(1000)]);
      });
      const back = yield* s.readExactly(data.length);
      yield* writer.wait();
      yield* s.sendAll(Buffer.from('line one\nline two\n'));
      const lines = [(yield* s.readLine()).toString(), (yield* s.readLine()).toString()];
      const authorized = s.authorized;
      s.close();
      return { same: back.equals(data), lines, authorized };
    });
    server.close();
    expect(r).toEqual({ same: true, lines: ['line one\n', 'line two\n'], authorized: true });
  });

  it('setTimeout(ms) bounds each wait; 0 is refused (no non-blocking mode under TLS), null means none; a string is sent as UTF-8', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const r = await run(function* () {
      const peer = spawn(function* () {
        const s = yield* wrapTls(yield* server.accept(), { isServer: true, key, cert });
        const got = (yield* s.readLine()).toString();
        yield* s.readLine(); // waits until the client closes
        s.close();
        return got;
      });
      const s = yield* wrapTls(yield* connect({ host: '127.0.0.1', port }), { servername: 'localhost', ca: cert });
      expect(() => s.setTimeout(0)).toThrow(RangeError);
      expect(() => s.setTimeout(-1)).toThrow(RangeError);
      s.setTimeout(null).setTimeout(Infinity).setTimeout(50);
      yield* s.sendAll('grüße\n');
      let timedOut = false;
      try {
        yield* s.recv(10); // the server sends nothing
      } catch (e) {
        timedOut = e instanceof TimeoutError;
      }
      s.close();
      return { got: yield* peer.wait(), timedOut };
    });
    server.close();
    expect(r).toEqual({ got: 'grüße\n', timedOut: true });
  });

  it('serves Node\'s tls.connect client', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    spawn(function* () {
      const raw = yield* server.accept();
      yield* tlsEcho(yield* wrapTls(raw, { isServer: true, key, cert }));
    });
    const data = randomBytes(100_000);
    const back = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const c = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: cert }, () => c.end(data));
      c.on('data', (d: Buffer) => chunks.push(d));
      c.on('end', () => resolve(Buffer.concat(chunks)));
      c.on('error', reject);
    });
    server.close();
    expect(back.equals(data)).toBe(true);
  });

  it('keeps a TimeoutError a TimeoutError when a deadline cuts the handshake short', async () => {
    const server = listen({ port: 0 }); // accepts nothing, answers nothing
    const port = server.address().port;
    const r = await run(function* (): Green<string> {
      const raw = yield* connect({ host: '127.0.0.1', port });
      try {
        yield* withTimeout(50, wrapTls(raw, { servername: 'localhost', ca: cert }));
        return 'handshake done';
      } catch (e) {
        return e instanceof TimeoutError ? 'TimeoutError' : String(e);
      }
    });
    server.close();
    expect(r).toBe('TimeoutError');
  });

  it('fails the handshake with a clear error on a certificate the client does not trust', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    const serverSide = spawn(function* (): Green<string> {
      const raw = yield* server.accept();
      try {
        yield* wrapTls(raw, { isServer: true, key, cert });
        return 'handshake done';
      } catch (e) {
        return 'server saw a failed handshake';
      }
    });
    const err = await run(function* (): Green<{ message: string; code?: string; causeCode?: string }> {
      const raw = yield* connect({ host: '127.0.0.1', port });
      try {
        yield* wrapTls(raw, { servername: 'localhost' }); // no ca: the self-signed cert is not trusted
        return { message: 'no error' };
      } catch (e) {
        return { message: (e as Error).message, code: (e as { code?: string }).code, causeCode: (e as { cause?: { code?: string } }).cause?.code };
      }
    });
    expect(err.message).toMatch(/^TLS handshake failed: self[- ]signed certificate/);
    expect(err.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(err.causeCode).toBe('DEPTH_ZERO_SELF_SIGNED_CERT'); // the original error is kept as the cause
    expect(await serverSide).toBe('server saw a failed handshake');
    server.close();
  });
});
