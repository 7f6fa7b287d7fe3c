// The buffered reads every green stream shares (lib/io/buffered-reader.ts), on real sockets and
// pipes: limits hold however TCP splits the bytes, empty reads are refused, memory goes back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GreenFd, listen, sleep, spawn } from '../lib';
import type { GreenServer, GreenSocket } from '../lib';
import { native } from '../lib/native';
import { run, thrown } from './helpers/green';
import { connectedPair } from './helpers/net';
import { pipe as rawPipe, writeStr } from './helpers/raw';

let server: GreenServer;
beforeAll(() => {
  server = listen({ port: 0 });
});
afterAll(() => server.close());

/** Runs body on a fresh connected pair and closes both ends after. */
function withPair<T>(body: (client: GreenSocket, peer: GreenSocket) => Generator<unknown, T, unknown>): Promise<T> {
  return run(function* () {
    const [client, peer] = yield* connectedPair(server);
    try {
      return yield* body(client, peer);
    } finally {
      client.close();
      peer.close();
    }
  });
}


describe('empty reads', () => {
  it('recvInto(an empty buffer) and recv(0) are both a RangeError: 0 means end of stream', async () => {
    const got = await withPair(function* (client) {
      return [thrown(() => client.recvInto(Buffer.alloc(0))), thrown(() => client.recv(0))];
    });
    expect(got[0]).toMatch(/^RangeError: buf must not be empty/);
    expect(got[1]).toMatch(/^RangeError: max must be an integer from 1/);
  });

  it('readExactly(0) on a fresh socket returns an empty Buffer', async () => {
    const got = await withPair(function* (client) {
      return yield* client.readExactly(0);
    });
    expect(got.length).toBe(0);
  });
});

describe('maxBytes of readUntil/readLine', () => {
  const line = Buffer.from('x'.repeat(100) + '\n'); // 101 bytes

  for (const split of [false, true]) {
    it(`refuses a 101-byte line under a 10-byte limit, arriving ${split ? 'in pieces' : 'in one piece'}`, async () => {
      const err = await withPair(function* (client, peer) {
        if (split) {
          yield* peer.sendAll(line.subarray(0, 5));
          yield* sleep(5);
          yield* peer.sendAll(line.subarray(5));
        } else {
          yield* peer.sendAll(line);
        }
        yield* sleep(5);
        try {
          yield* client.readLine({ maxBytes: 10 });
          return 'no error';
        } catch (e) {
          return (e as { code?: string }).code;
        }
      });
      expect(err).toBe('ERR_LINE_TOO_LONG');
    });
  }

  it('accepts a line of exactly maxBytes, delimiter included', async () => {
    const got = await withPair(function* (client, peer) {
      yield* peer.sendAll(Buffer.from('123456789\nnext\n'));
      return [(yield* client.readLine({ maxBytes: 10 })).toString(), (yield* client.readLine({ maxBytes: 10 })).toString()];
    });
    expect(got).toEqual(['123456789\n', 'next\n']);
  });

  it('gives back the memory of a long line: the buffer returns to 64 KiB', async () => {
    const big = Buffer.alloc(1536 * 1024, 'a');
    big[big.length - 1] = 0x0a;
    const [during, after, length] = await withPair(function* (client, peer) {
      const sender = spawn(function* () {
        yield* peer.sendAll(big);
        yield* peer.sendAll(Buffer.from('short\n'));
      });
      const capacity = (): number => (client as unknown as { readBufferCapacity: number }).readBufferCapacity;
      const first = yield* client.readLine({ maxBytes: 2 << 20 });
      const grown = capacity();
      yield* client.readLine();
      yield* sender.wait();
      return [grown, capacity(), first.length];
    });
    expect(length).toBe(big.length);
    expect(during).toBeLessThanOrEqual(64 * 1024); // already given back when the long line was taken
    expect(after).toBeLessThanOrEqual(64 * 1024);
  });
});

describe('a GreenFd does not read ahead of what it returns', () => {
  it('recv(2) on a pipe takes two bytes and leaves the rest to other readers of the same file', async () => {
    const [rfd, wfd] = rawPipe();
    writeStr(wfd, 'abcdef');
    const g = new GreenFd(rfd, { close: false });
    const got = await run(function* () {
      return [(yield* g.recv(2)).toString(), (yield* g.readExactly(2)).toString()];
    });
    g.close();
    const rest = Buffer.alloc(16);
    const n = native.read(rfd, rest, 0, 16);
    native.close(rfd);
    native.close(wfd);
    expect(got).toEqual(['ab', 'cd']);
    expect(rest.subarray(0, n).toString()).toBe('ef');
  });
});
