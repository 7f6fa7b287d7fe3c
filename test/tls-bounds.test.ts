// TLS that a peer cannot hold open for ever (lib/io/tls.ts): a handshake that stops halfway
// times out, and close() against a peer that stopped reading cuts the connection after a bound.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimeoutError, listen, sleep, wrapTls } from '../lib';
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

describe('a TLS peer that stalls', () => {
  it('halfway through the handshake: wrapTls throws TimeoutError after handshakeTimeoutMs and closes the socket', async () => {
    const server = listen({ port: 0 });
    const client = net.connect(server.address().port, '127.0.0.1'); // connects, never says hello
    client.on('error', () => {});
    const got = await run(function* () {
      const raw = yield* server.accept();
      try {
        yield* wrapTls(raw, { isServer: true, key, cert, handshakeTimeoutMs: 100 });
        return { error: 'none' };
      } catch (e) {
        for (let i = 0; i < 100 && !raw.closed; i++) yield* sleep(10);
        return { error: e instanceof TimeoutError ? (e as Error).message : String(e), rawClosed: raw.closed };
      }
    });
    client.destroy();
    server.close();
    expect(got).toEqual({ error: 'TLS handshake timed out after 100 ms', rawClosed: true });
  });

  it('by no longer reading: close() cuts the connection after closeTimeoutMs, freeing the fd', async () => {
    const server = listen({ port: 0 });
    const port = server.address().port;
    let client: tls.TLSSocket | undefined;
    const connected = new Promise<void>((resolve) => {
      client = tls.connect({ port, host: '127.0.0.1', ca: cert, servername: 'localhost' }, () => {
        client!.pause(); // stops reading for good
        resolve();
      });
      client.on('error', () => {});
    });
    const got = await run(function* () {
      const raw = yield* server.accept();
      const s = yield* wrapTls(raw, { isServer: true, key, cert, closeTimeoutMs: 100 });
      // Far more than the kernel's and TLS's buffers hold: the flush can never finish.
      for (let i = 0; i < 64; i++) s.tlsSocket.write(Buffer.alloc(256 * 1024));
      s.close();
      for (let i = 0; i < 300 && !raw.closed; i++) yield* sleep(10);
      return raw.closed;
    });
    await connected;
    client!.destroy();
    server.close();
    expect(got).toBe(true);
  });
});
