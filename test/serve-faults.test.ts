// serve() against what handlers and peers do off the happy path (lib/io/serve.ts): a socket a
// Duplex took over stays open after the handler returns, errors that are nobody's bug are not
// reported, and an idle timeout keeps silent clients from holding every slot.
import * as net from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { getHub, listen, serve, sleep, spawn } from '../lib';
import { run } from './helpers/green';
import type { Green, GreenSocket } from '../lib';

const reported: unknown[] = [];
afterEach(() => getHub().onError(null));
function captureErrors(): void {
  reported.length = 0;
  getHub().onError((err) => reported.push(err));
}

/** Connects a Node net client and collects everything it receives until the server closes. */
function receiveAll(port: number, send?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const c = net.connect(port, '127.0.0.1', () => {
      if (send !== undefined) c.write(send);
    });
    c.on('data', (d) => chunks.push(d));
    c.on('error', reject);
    c.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

describe('serve() and a socket taken over by toDuplex()', () => {
  it('keeps the socket open until the Duplex is done: all 100 KB arrive though the handler returned at once', async () => {
    const server = listen({ port: 0 });
    const body = Buffer.alloc(100 * 1024, 'z');
    const loop = spawn(() => serve(server, function* (sock: GreenSocket): Green<void> {
      const duplex = sock.toDuplex();
      duplex.resume(); // read to the peer's end too, so the Duplex completes (and closes the socket)
      void pipeline(Readable.from([body.subarray(0, 50 * 1024), body.subarray(50 * 1024)]), duplex);
      // returns while the Duplex still pipes
    }));
    const got = await receiveAll(server.address().port);
    await run(function* () {
      yield* sleep(20); // the Duplex sees the end and closes the socket
    });
    server.close();
    await loop;
    expect(got.length).toBe(body.length);
  });
});

describe('serve() does not report', () => {
  it('a handler that ends with its own socket closed under it, or with the socket timeout; it does report a real bug', async () => {
    captureErrors();
    const server = listen({ port: 0 });
    const port = server.address().port;
    const loop = spawn(() => serve(server, function* (sock: GreenSocket): Green<void> {
      const line = (yield* sock.readLine()).toString().trim();
      if (line === 'close') {
        sock.close();
        yield* sock.recv(); // ERR_SOCKET_CLOSED: our own doing
      } else if (line === 'timeout') {
        sock.setTimeout(20);
        yield* sock.recv(); // the peer stays silent: TimeoutError of this socket's own timeout
      } else {
        throw new Error('a real bug');
      }
    }));
    const clients = ['close\n', 'timeout\n', 'bug\n'].map((line) => receiveAll(port, line));
    await Promise.all(clients);
    await new Promise((r) => setTimeout(r, 50));
    server.close();
    await loop;
    expect(reported.map((e) => (e as Error).message)).toEqual(['a real bug']);
  });
});

describe('serve({ idleTimeoutMs })', () => {
  it('frees the slots of silent clients, so a healthy client is served at the concurrency limit', async () => {
    captureErrors();
    const server = listen({ port: 0 });
    const port = server.address().port;
    const loop = spawn(() =>
      serve(server, function* echoLine(sock: GreenSocket): Green<void> {
        yield* sock.sendAll(yield* sock.readLine());
      }, { concurrency: 3, idleTimeoutMs: 100 }),
    );
    const silent = [0, 1, 2].map(() => receiveAll(port)); // connect, say nothing
    await new Promise((r) => setTimeout(r, 30));
    const answer = await Promise.race([
      receiveAll(port, 'healthy\n'),
      new Promise<Buffer>((r) => setTimeout(() => r(Buffer.from('starved')), 5000)),
    ]);
    const silentGot = await Promise.all(silent); // each closed by the server
    server.close();
    await loop;
    expect(answer.toString()).toBe('healthy\n');
    expect(silentGot.map((b) => b.length)).toEqual([0, 0, 0]);
    expect(reported).toEqual([]); // a silent peer's timeout is not an error
  });

  it('is validated like every option', async () => {
    const server = listen({ port: 0 });
    const thrown = await run(function* () {
      try {
        serve(server, function* () {}, { idleTimeoutMs: -1 });
        return 'no error';
      } catch (e) {
        return (e as Error).name;
      }
    });
    server.close();
    expect(thrown).toBe('RangeError');
  });
});
